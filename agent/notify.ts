// systemd readiness (sd_notify(3)) for `hush agent run` under `Type=notify`, without a child process.
//
// The agent must never spawn a process (libfuse2 leaves /dev/fuse inheritable: a child would keep the
// FUSE connection alive after the agent dies), so `systemd-notify` is out, and Node has no AF_UNIX
// datagram sockets (node:dgram knows udp4/udp6 only). The datagram is sent by the project's own
// addon (fs/native/umount.c, sdNotify). Without $NOTIFY_SOCKET (not started by systemd) every call
// is a no-op. A failed send is reported to the caller's logger and never stops the agent: systemd
// then times the start out, which is the right outcome for a service manager that cannot hear us.
import type { Logger } from 'pino';
import { nativeSys } from '../common/native.js';

/** The socket systemd asked us to notify, or undefined when not run by systemd with Type=notify. */
export function notifySocket(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const s = env.NOTIFY_SOCKET;
  return s && (s.startsWith('/') || s.startsWith('@')) ? s : undefined;
}

/**
 * Sends `fields` (KEY=VALUE lines, e.g. { READY: '1', STATUS: '...' }) to $NOTIFY_SOCKET. Returns
 * true if a datagram was sent, false when there is no socket or the send failed (logged).
 */
export function sdNotify(fields: Record<string, string>, log?: Logger, env: NodeJS.ProcessEnv = process.env): boolean {
  const socket = notifySocket(env);
  if (!socket) return false;
  // One field per line; a value never spans lines (STATUS is free text: keep it on one).
  const message = Object.entries(fields).map(([k, v]) => `${k}=${v.replace(/\n/g, ' ')}`).join('\n');
  try {
    nativeSys().sdNotify(socket, message);
    return true;
  } catch (err) {
    log?.error({ err: (err as Error).message, socket }, 'cannot notify systemd');
    return false;
  }
}

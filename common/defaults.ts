export const DEFAULT_MANAGER_STATE_DIR = '/var/lib/hush/manager';
export const DEFAULT_LISTEN = '0.0.0.0:4242';
export const DEFAULT_CERT_EXPIRY = '90d';
export const DEFAULT_AGENT_STATE_DIR = '/var/lib/hush/agent';
export const DEFAULT_MOUNT = '/run/secrets';
/** Per-task propagation anchors for containers (fs/anchors.ts): <dir>/<task>/secrets binds <mount>/<task>. */
export const DEFAULT_ANCHORS = '/run/hush';
export const CONTROL_SOCKET = 'control.sock';

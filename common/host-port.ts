// HOST:PORT as the CLI takes it (--manager, --listen) and as a manager announces the cluster's
// managers to its nodes (AssignmentsMessage.managers): a name or IPv4 address, or a bracketed IPv6
// address, and a port of at most 65535.
const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[a-zA-Z0-9.-]+):(\d{1,5})$/;

export function isHostPort(text: string): boolean {
  const m = HOST_PORT.exec(text);
  return !!m && Number(m[2]) <= 65535;
}

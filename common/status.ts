// gRPC status codes (the numbers are the wire protocol's), without loading @grpc/grpc-js: the
// validation rules that raise HushErrors also run in the CLI, which does not load grpc-js.
export const Status = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type StatusCode = (typeof Status)[keyof typeof Status];

/** The code's name, e.g. NOT_FOUND (grpc-js's error messages start with "5 NOT_FOUND: "). */
export function statusName(code: number): string {
  return Object.entries(Status).find(([, c]) => c === code)?.[0] ?? 'UNKNOWN';
}

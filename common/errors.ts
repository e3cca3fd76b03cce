import { status } from '@grpc/grpc-js';

// An error whose message is safe to show to the caller: one line, no secret value.
export class HushError extends Error {
  constructor(readonly code: status, message: string) {
    super(message);
  }
}

export const invalidArgument = (m: string) => new HushError(status.INVALID_ARGUMENT, m);
export const notFound = (m: string) => new HushError(status.NOT_FOUND, m);
export const alreadyExists = (m: string) => new HushError(status.ALREADY_EXISTS, m);
export const permissionDenied = (m: string) => new HushError(status.PERMISSION_DENIED, m);
export const unauthenticated = (m: string) => new HushError(status.UNAUTHENTICATED, m);
export const failedPrecondition = (m: string) => new HushError(status.FAILED_PRECONDITION, m);
export const unavailable = (m: string) => new HushError(status.UNAVAILABLE, m);

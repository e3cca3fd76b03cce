import { Status, type StatusCode } from './status.js';

// An error whose message is safe to show to the caller: one line, no secret value.
export class HushError extends Error {
  constructor(readonly code: StatusCode, message: string) {
    super(message);
  }
}

export const invalidArgument = (m: string) => new HushError(Status.INVALID_ARGUMENT, m);
export const notFound = (m: string) => new HushError(Status.NOT_FOUND, m);
export const alreadyExists = (m: string) => new HushError(Status.ALREADY_EXISTS, m);
export const permissionDenied = (m: string) => new HushError(Status.PERMISSION_DENIED, m);
export const unauthenticated = (m: string) => new HushError(Status.UNAUTHENTICATED, m);
export const failedPrecondition = (m: string) => new HushError(Status.FAILED_PRECONDITION, m);
export const unavailable = (m: string) => new HushError(Status.UNAVAILABLE, m);

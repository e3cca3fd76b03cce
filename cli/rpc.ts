// The CLI's gRPC client: unary calls to the manager's Control service over HTTP/2 on its unix control
// socket, with the messages of proto/codec.ts. Not @grpc/grpc-js: loading it (with protobufjs) costs
// the CLI more than the rest of a command (issue 9, bench/cli-start.ts), and the control socket needs
// none of what it brings (TLS, name resolution, load balancing, retries, keepalives). What the CLI
// sees is what grpc-js gave it: a status code and details (the manager's, or UNAVAILABLE /
// DEADLINE_EXCEEDED from here, with grpc-js's wording), the same send and receive limits.
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import { Status, statusName } from '../common/status.js';
import { Codec } from '../proto/codec.js';
import { hushDescriptor } from '../proto/gen/hush-descriptor.js';

// Node's modules as they are (CommonJS), not through ESM imports, whose facades cost the CLI's
// start-up ~1 ms each (~2 ms for node:fs); bench/cli-start.ts. So do unreachable.ts, client.ts, input.ts.
const { connect: connectHttp2, constants } = process.getBuiltinModule('node:http2');
const { connect } = process.getBuiltinModule('node:net');

/** The largest request the CLI sends (as its grpc-js channel was set: a secret fits). */
const MAX_SEND_BYTES = 1024 * 1024;
/** The largest answer it reads (grpc-js's default). */
const MAX_RECEIVE_BYTES = 4 * 1024 * 1024;

/** A failed call, as grpc-js reports it (code, details, and `CODE NAME: details` as the message). */
export class RpcError extends Error {
  /** @param fromManager the status is the manager's answer (not a failure to reach it) */
  constructor(readonly code: number, readonly details: string, readonly fromManager = false) {
    super(`${code} ${statusName(code)}: ${details}`);
  }
}

let codec: Codec | undefined;

/** gRPC's meaning of a non-200 HTTP status (grpc-js's mapping). */
function httpStatusError(status: number): RpcError {
  const code = ({ 400: Status.INTERNAL, 401: Status.UNAUTHENTICATED, 403: Status.PERMISSION_DENIED, 404: Status.UNIMPLEMENTED,
    429: Status.UNAVAILABLE, 502: Status.UNAVAILABLE, 503: Status.UNAVAILABLE, 504: Status.UNAVAILABLE } as Record<number, number>)[status];
  return new RpcError(code ?? Status.UNKNOWN, `Received HTTP status code ${status}`);
}

/** One HTTP/2 connection to a unix socket, for unary calls to one service. */
export class UnaryClient {
  private session?: ClientHttp2Session;
  /** Why the connection failed or ended, once it has. */
  private connectionError?: Error;
  private connected = false;

  constructor(private readonly socketPath: string, private readonly service: string) {}

  private connection(): ClientHttp2Session {
    if (this.session && !this.session.destroyed && !this.session.closed) return this.session;
    this.connectionError = undefined;
    this.connected = false;
    const session = connectHttp2('http://localhost', { createConnection: () => connect(this.socketPath) });
    session.on('connect', () => { this.connected = true; });
    session.on('error', (e: Error) => { this.connectionError ??= e; });
    session.on('goaway', () => { this.connectionError ??= new Error('the manager closed the connection (GOAWAY)'); });
    session.on('close', () => { this.connectionError ??= new Error('the connection closed'); });
    this.session = session;
    return session;
  }

  /** Calls `method` with `request`; the answer as proto-loader's object, or an RpcError. */
  call(method: string, request: object, timeoutMs: number): Promise<Record<string, unknown>> {
    codec ??= new Codec(hushDescriptor);
    const m = codec.method(this.service, method);
    const body = m.request.encode(request as Record<string, unknown>);
    if (body.length > MAX_SEND_BYTES) {
      body.fill(0);
      return Promise.reject(new RpcError(Status.RESOURCE_EXHAUSTED, `Attempted to send message with a size larger than ${MAX_SEND_BYTES}`));
    }
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt32BE(body.length, 1);
    body.copy(frame, 5);
    body.fill(0); // it may hold a secret's value
    const started = Date.now();

    return new Promise((resolve, reject) => {
      let stream: ClientHttp2Stream;
      let settled = false;
      let httpStatus: number | undefined;
      let trailers: IncomingHttpHeaders | undefined;
      let received: Buffer = Buffer.alloc(0);
      const messages: Buffer[] = [];
      let failure: RpcError | undefined;

      const settle = (err: RpcError | undefined, message?: Buffer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        frame.fill(0);
        if (err) return reject(err);
        try {
          resolve(m.response.decode(message!));
        } catch (e) {
          reject(new RpcError(Status.INTERNAL, `Response message parsing error: ${(e as Error).message}`));
        }
      };
      const cancel = (err: RpcError) => {
        failure ??= err;
        if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL);
        settle(err);
      };
      const timer = setTimeout(() => {
        cancel(new RpcError(Status.DEADLINE_EXCEEDED, `Deadline exceeded after ${((Date.now() - started) / 1000).toFixed(3)}s`));
      }, timeoutMs);

      try {
        stream = this.connection().request({
          [constants.HTTP2_HEADER_METHOD]: 'POST',
          [constants.HTTP2_HEADER_PATH]: m.path,
          [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
          [constants.HTTP2_HEADER_TE]: 'trailers',
          'grpc-timeout': `${Math.max(1, timeoutMs)}m`,
          'grpc-accept-encoding': 'identity',
        });
      } catch (e) {
        return settle(new RpcError(Status.UNAVAILABLE, `No connection established. Last error: ${(e as Error).message}`));
      }
      stream.on('response', (headers, flags) => {
        httpStatus = Number(headers[constants.HTTP2_HEADER_STATUS]);
        if (flags & constants.NGHTTP2_FLAG_END_STREAM) trailers = headers; // a trailers-only answer (an error)
      });
      stream.on('trailers', (headers) => { trailers = headers; });
      stream.on('data', (chunk: Buffer) => {
        if (failure) return;
        received = received.length ? Buffer.concat([received, chunk]) : chunk;
        while (received.length >= 5) {
          const size = received.readUInt32BE(1);
          if (size > MAX_RECEIVE_BYTES) return cancel(new RpcError(Status.RESOURCE_EXHAUSTED, `Received message larger than max (${size} vs ${MAX_RECEIVE_BYTES})`));
          if (received.length < 5 + size) break;
          if (received[0] !== 0) return cancel(new RpcError(Status.INTERNAL, 'Received a compressed message without a grpc-encoding'));
          if (messages.length) return cancel(new RpcError(Status.UNIMPLEMENTED, 'Too many responses received'));
          messages.push(received.subarray(5, 5 + size));
          received = received.subarray(5 + size);
        }
      });
      let streamError: Error | undefined;
      stream.on('error', (e: Error) => { streamError ??= e; }); // reported once the stream has closed
      // The connection's error event may follow the stream's close: decide once both have been heard.
      stream.on('close', () => setImmediate(() => {
        if (failure) return settle(failure);
        const status = trailers?.['grpc-status'];
        if (typeof status === 'string') {
          const code = Number(status);
          if (code !== Status.OK) return settle(new RpcError(code, grpcMessage(trailers!['grpc-message']), true));
          if (!messages.length) return settle(new RpcError(Status.UNIMPLEMENTED, 'No message received'));
          return settle(undefined, messages[0]);
        }
        if (httpStatus !== undefined && httpStatus !== 200) return settle(httpStatusError(httpStatus));
        const cause = this.connectionError ?? streamError;
        if (cause && !this.connected) return settle(new RpcError(Status.UNAVAILABLE, `No connection established. Last error: ${cause.message}`));
        if (cause || stream.rstCode === constants.NGHTTP2_CANCEL) return settle(new RpcError(Status.UNAVAILABLE, 'Connection dropped'));
        if (stream.rstCode === constants.NGHTTP2_REFUSED_STREAM) return settle(new RpcError(Status.UNAVAILABLE, 'Stream refused by server'));
        settle(new RpcError(Status.INTERNAL, `Received RST_STREAM with code ${stream.rstCode} (Call ended without gRPC status)`));
      }));
      stream.end(frame);
    });
  }

  /** After the last call: a graceful close, which does not keep the process alive (a manager that never answered would). */
  close(): void {
    this.session?.close();
    this.session?.unref();
  }
}

/** grpc-message is percent-encoded (grpc-js decodes it with decodeURI). */
function grpcMessage(value: string | string[] | undefined): string {
  const text = Array.isArray(value) ? value[0] : value ?? '';
  try {
    return decodeURI(text);
  } catch {
    return text;
  }
}

/**
 * Small HTTP helpers shared by the local stack's servers: listening with a clear message when a port
 * is taken, and closing without leaving keep-alive sockets (or jest handles) behind.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Thrown when a local stack port cannot be bound. `code` is the system error code (e.g. `EADDRINUSE`). */
export class PortError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly port: number,
  ) {
    super(message);
    this.name = 'PortError';
  }
}

/**
 * The message for a port that cannot be bound. `option` names the setting that chooses the port
 * (e.g. `ports.s3` or `--s3-port`) so the user knows what to change.
 */
export function portProblem(what: string, host: string, port: number, code: string, option: string): string {
  if (code === 'EADDRINUSE') {
    return `Port ${port} on ${host} for the local ${what} is already in use; stop whatever listens there, ` +
      `or choose another port with ${option} (0 picks a free one).`;
  }
  if (code === 'EACCES') {
    return `Port ${port} on ${host} for the local ${what} needs privileges; choose a port above 1023 with ${option}.`;
  }
  if (code === 'EADDRNOTAVAIL') {
    return `Host ${host} is not an address of this machine; the local ${what} cannot listen on it (use 127.0.0.1).`;
  }
  return `The local ${what} could not listen on ${host}:${port} (${code}).`;
}

/** Listens on `host:port` (0 = ephemeral) and resolves with the bound port; rejects with a {@link PortError}. */
export async function listen(server: Server, host: string, port: number, what: string, option: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      const code = err.code ?? 'UNKNOWN';
      reject(new PortError(portProblem(what, host, port, code, option), code, port));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/** Closes a server and every connection it still holds (idle keep-alive sockets included). */
export async function close(server: Server): Promise<void> {
  if (!server.listening) return;
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** `http://host:port`, with IPv6 hosts bracketed. */
export function origin(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { basename, dirname } from 'node:path';
import ptyModule from 'node-pty';
import { PaddockError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import { HOST_SSH_ADDRESS, type HostSsh } from './host-ssh.ts';
import type { TerminalEnd, WorkspaceTerminal } from './pty-terminal.ts';

// The two host terminals (`config.hostSsh`, prepared by host-ssh.ts). A shell terminal is the
// host's OpenSSH client on a pty (node-pty: ConPTY on Windows, a Unix pty elsewhere) logging in
// to the host's server as the account with the supervisor's key, the server's host key pinned;
// the remote exit status is the client's. An `ssh` terminal is a TCP connection to the server:
// the socket is the SSH stream, exactly what `sshd -i`'s stdio is in a Linux sandbox, and the
// user's own client authenticates through it end to end.

const log = createLogger('host-ssh-terminal');

/**
 * A path as ssh reads it: `%` doubled (ssh expands tokens in file names), and quoted when it
 * holds a space (an `-o` value is split at spaces, as a config line is; a backslash before
 * anything but a quote, a backslash or a space is kept, so Windows paths pass unchanged).
 */
function sshPath(path: string): string {
  const escaped = path.replaceAll('%', '%%');
  return /\s/.test(escaped) ? `"${escaped}"` : escaped;
}

/** The client's arguments: no config file, no agent, no forwarding, the one key, the pinned host. */
export function hostSshClientArgs(host: HostSsh): string[] {
  const options = {
    // Not `-i`: ssh takes that path literally first and only expands it later.
    IdentityFile: sshPath(host.clientKeyFile),
    IdentitiesOnly: 'yes',
    IdentityAgent: 'none',
    BatchMode: 'yes',
    PreferredAuthentications: 'publickey',
    StrictHostKeyChecking: 'yes',
    UserKnownHostsFile: sshPath(host.knownHostsFile),
    GlobalKnownHostsFile: 'none',
    HostKeyAlgorithms: 'ssh-ed25519',
    UpdateHostKeys: 'no',
    CheckHostIP: 'no',
    ForwardAgent: 'no',
    ForwardX11: 'no',
    ClearAllForwardings: 'yes',
    PermitLocalCommand: 'no',
    // Every keystroke is the remote shell's: `~.` or `~C` (add a forwarding) never reach the client.
    EscapeChar: 'none',
    LogLevel: 'ERROR',
  };
  return [
    '-F',
    'none',
    '-tt',
    ...Object.entries(options).flatMap(([name, value]) => ['-o', `${name}=${value}`]),
    '-p',
    String(host.port),
    '-l',
    host.account,
    HOST_SSH_ADDRESS,
  ];
}

/** The client's whole environment: nothing of the supervisor's (no secrets, no SSH_AUTH_SOCK). */
function clientEnv(): Record<string, string> {
  if (process.platform === 'win32') {
    // Windows programs need SystemRoot (Winsock and the crypto providers load from it).
    const systemRoot = process.env['SystemRoot'] ?? process.env['SYSTEMROOT'] ?? 'C:\\Windows';
    return { SystemRoot: systemRoot, WINDIR: systemRoot };
  }
  return { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' };
}

/** Output held until the caller listens, then delivered as it comes. */
function outputRelay() {
  const listeners: ((data: Buffer) => void)[] = [];
  let held: Buffer[] | undefined = [];
  return {
    push(chunk: Buffer) {
      if (held) held.push(chunk);
      else for (const listener of listeners) listener(chunk);
    },
    listen(listener: (data: Buffer) => void) {
      listeners.push(listener);
      const pending = held ?? [];
      held = undefined;
      for (const chunk of pending) listener(chunk);
    },
  };
}

/** The end, reported once to every exit listener (also to one added after it). */
function exitRelay() {
  const listeners: ((end: TerminalEnd) => void)[] = [];
  let end: TerminalEnd | undefined;
  return {
    get ended() {
      return end !== undefined;
    },
    finish(value: TerminalEnd) {
      if (end) return;
      end = value;
      for (const listener of listeners.splice(0)) listener(value);
    },
    listen(listener: (end: TerminalEnd) => void) {
      if (end) listener(end);
      else listeners.push(listener);
    },
  };
}

/**
 * A shell terminal: the host's OpenSSH client on a new pty, logged in as the account.
 * PDK_CHANNEL_TERMINAL when the client is not installed.
 */
export async function openHostSshPty(
  host: HostSsh,
  size: { readonly cols: number; readonly rows: number },
): Promise<WorkspaceTerminal> {
  // A bare name is looked up in PATH by the pty's spawn; a path must exist.
  if (basename(host.sshClient) !== host.sshClient && !existsSync(host.sshClient))
    throw new PaddockError(
      'PDK_CHANNEL_TERMINAL',
      `the OpenSSH client ${host.sshClient} is missing: install OpenSSH Client or correct hostSsh.sshClient`,
    );
  const pty = ptyModule.spawn(host.sshClient, hostSshClientArgs(host), {
    name: 'xterm-256color',
    cols: size.cols,
    rows: size.rows,
    cwd: dirname(host.clientKeyFile),
    env: clientEnv(),
    encoding: null,
  });
  const output = outputRelay();
  const exit = exitRelay();
  pty.onData((data: string | Buffer) => output.push(typeof data === 'string' ? Buffer.from(data) : data));
  // node-pty reports the exit once the pty's output is drained (or after its own short grace).
  pty.onExit(({ exitCode, signal }) =>
    exit.finish({ exitCode: signal ? 128 + signal : exitCode, signal: null }),
  );
  return {
    write(data) {
      if (!exit.ended) pty.write(Buffer.from(data));
    },
    resize(cols, rows) {
      if (exit.ended) return;
      try {
        pty.resize(cols, rows);
      } catch (error) {
        log.debug({ error: (error as Error).message }, 'resize after the pty closed');
      }
    },
    close() {
      // SIGHUP on a Unix pty; the process is ended on Windows (which takes no signal name).
      if (!exit.ended) pty.kill();
    },
    pause: () => pty.pause(),
    resume: () => pty.resume(),
    onData: (listener) => output.listen(listener),
    onExit: (listener) => exit.listen(listener),
  };
}

/** Resolves once `socket` is connected; PDK_CHANNEL_TERMINAL when the server does not answer. */
function connected(socket: Socket, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const refused = (error: NodeJS.ErrnoException) =>
      reject(
        new PaddockError(
          'PDK_CHANNEL_TERMINAL',
          `the host's OpenSSH server on ${HOST_SSH_ADDRESS}:${port} did not answer (${error.code ?? error.message}): start the sshd service and check it listens on that port`,
        ),
      );
    socket.once('error', refused);
    socket.once('connect', () => {
      socket.off('error', refused);
      resolve();
    });
  });
}

/**
 * An `ssh` terminal: a connection to the host's OpenSSH server, relayed byte for byte. Its end
 * is exit status 0 when the connection closed cleanly, SIGHUP when it broke.
 * PDK_CHANNEL_TERMINAL when the server does not answer.
 */
export async function openHostSshStream(host: HostSsh): Promise<WorkspaceTerminal> {
  const socket = connect({ host: HOST_SSH_ADDRESS, port: host.port });
  await connected(socket, host.port);
  socket.setNoDelay(true);
  const output = outputRelay();
  const exit = exitRelay();
  socket.on('data', (chunk: Buffer) => output.push(chunk));
  socket.on('error', (error) => log.info({ error: error.message }, 'host SSH connection broke'));
  socket.on('close', (hadError) =>
    exit.finish(hadError ? { exitCode: null, signal: 'SIGHUP' } : { exitCode: 0, signal: null }),
  );
  return {
    write(data) {
      if (!exit.ended && socket.writable) socket.write(Buffer.from(data));
    },
    resize() {
      // SSH carries its own window-change requests inside the stream.
    },
    close() {
      if (!exit.ended) socket.destroy();
    },
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    onData: (listener) => output.listen(listener),
    onExit: (listener) => exit.listen(listener),
  };
}

import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OcsfEvent } from '../../../src/audit/index.ts';
import { freePort, waitForPort } from './support.ts';

// A real rsyslog from Debian for the syslog sink tests: rsyslogd in the foreground (-n) with a
// config in a temp dir, imtcp on 127.0.0.1 (plain, or TLS with its GnuTLS driver and a test CA
// made here by openssl), writing each message it parsed as tab-separated header fields and
// the raw message, so a test sees exactly what a collector would.

const FIELDS = ['pri', 'app-name', 'procid', 'msgid', 'structured-data', 'rawmsg'] as const;

export interface Rsyslog {
  readonly port: number;
  readonly output: string;
  readonly process: ChildProcess;
  /** What rsyslogd printed (its own diagnostics). */
  stderr: string;
}

export interface ReceivedSyslog {
  readonly pri: number;
  readonly appName: string;
  readonly procId: string;
  readonly msgId: string;
  readonly structuredData: string;
  readonly raw: string;
  readonly event: OcsfEvent;
}

/** A test CA and a server certificate for 127.0.0.1/localhost in `dir`, plus an unrelated CA. */
export function makeTestCertificates(dir: string): { ca: string; otherCa: string } {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  for (const name of ['ca', 'other-ca'])
    openssl(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      '1',
      '-subj',
      `/CN=Paddock test ${name}`,
    );
  openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(
    join(dir, 'san.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
  );
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '1',
    '-extfile',
    'san.ext',
  );
  return { ca: join(dir, 'ca.pem'), otherCa: join(dir, 'other-ca.pem') };
}

/** Starts rsyslogd listening on a free port; TLS needs makeTestCertificates(dir) first. Stop it with stopProcess. */
export async function startRsyslogDaemon(
  dir: string,
  name: string,
  withTls: boolean,
  port?: number,
): Promise<Rsyslog> {
  port ??= await freePort();
  const work = join(dir, name);
  mkdirSync(work, { recursive: true });
  const output = join(work, 'received.log');
  const template = FIELDS.map((field) => `property(name="${field}")`).join(' constant(value="\\t") ');
  const tlsFiles = withTls
    ? ` defaultNetstreamDriverCAFile="${join(dir, 'ca.pem')}" defaultNetstreamDriverCertFile="${join(dir, 'server.pem')}" defaultNetstreamDriverKeyFile="${join(dir, 'server.key')}"`
    : '';
  const config = [
    `global(workDirectory="${work}" maxMessageSize="256k" parser.escapeControlCharactersOnReceive="off"${tlsFiles})`,
    withTls
      ? 'module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")'
      : 'module(load="imtcp")',
    `template(name="fields" type="list") { ${template} constant(value="\\n") }`,
    `ruleset(name="capture") { action(type="omfile" file="${output}" template="fields") }`,
    `input(type="imtcp" address="127.0.0.1" port="${port}" ruleset="capture")`,
    '',
  ].join('\n');
  const conf = join(work, 'rsyslog.conf');
  writeFileSync(conf, config);
  const child = spawn('rsyslogd', ['-n', '-f', conf, '-i', join(work, 'rsyslogd.pid')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const daemon: Rsyslog = { port, output, process: child, stderr: '' };
  const collect = (chunk: Buffer) => {
    daemon.stderr += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  await waitForPort(port);
  return daemon;
}

/** The raw bytes rsyslog wrote (for canary scans). */
export function rsyslogOutput(daemon: Rsyslog): string {
  return existsSync(daemon.output) ? readFileSync(daemon.output, 'utf8') : '';
}

/** Every message rsyslog wrote, parsed: header fields and the OCSF event in MSG (after the BOM). */
export function rsyslogReceived(daemon: Rsyslog): ReceivedSyslog[] {
  return rsyslogOutput(daemon)
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [pri, appName, procId, msgId, structuredData, raw] = line.split('\t') as [
        string,
        string,
        string,
        string,
        string,
        string,
      ];
      const bom = raw.indexOf('\u{FEFF}');
      assert.ok(bom > 0, `MSG starts with a BOM: ${raw.slice(0, 200)}`);
      return {
        pri: Number(pri),
        appName,
        procId,
        msgId,
        structuredData,
        raw,
        event: JSON.parse(raw.slice(bom + 1)),
      };
    });
}

import type { PolicyAction, PolicyBundle } from '../cedar/bundle-types.ts';
import { ENTITY } from '../cedar/schema.ts';
import { compileEgressPolicy } from '../egress/compile.ts';
import { decideConnect } from '../egress/decide.ts';
import { normalizeHost, splitAuthority } from '../egress/host.ts';
import { ambiguousPath, compilePathGlob } from '../egress/path-glob.ts';
import {
  canonicalJson,
  pathProblem,
  programName,
  REQUEST_LIMITS,
  renderCommandLine,
  renderWord,
} from './request-forms.ts';
import type { PolicyReason } from './reasons.ts';
import type { DecisionRequest } from './types.ts';
import { type RecordValue, recordOf, SetValue } from './values.ts';

// Turns a request into what policies see: a resource entity and a small context whose every
// attribute is a pure function of the request and the bundle. Malformed input never reaches a
// policy; it is refused here with its own reason (and the answer is deny).

/** A request ready for evaluation. */
export interface EvalInput {
  readonly action: PolicyAction;
  readonly resourceType: string;
  readonly resourceId: string;
  readonly context: RecordValue;
  /** Every attribute that decides, one-to-one: the memo key (without the principal). */
  readonly key: string;
}

/** A request refused before evaluation. */
export interface Refusal {
  readonly refused: PolicyReason;
  readonly detail: string;
}

const METHOD = /^[A-Z]{1,20}$/;
/** Most remembered host normalizations and service matches per bundle. */
const CACHE_ENTRIES = 1024;
const URL_FORM = /^(https?):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/iu;
const CONTROL = /[\x00-\x1f\x7f]/u;

function refuse(refused: PolicyReason, detail: string): Refusal {
  return { refused, detail };
}

function isText(value: unknown, max: number): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max && value.isWellFormed();
}

/**
 * Builds the per-bundle request translator.
 *
 * @example const toInput = createRequestContext(bundle); toInput({ action: 'exec', argv: ['git', 'status'] })
 */
export function createRequestContext(
  bundle: PolicyBundle,
): (request: DecisionRequest) => EvalInput | Refusal {
  const egress = compileEgressPolicy(bundle.services);
  const globs = bundle.pathGlobs.map(compilePathGlob);
  // Hosts repeat: normalization (IDNA) and service matching are pure, so their answers are
  // kept, a bounded number of them (cleared when full rather than tracked for recency).
  const services = new Map<string, string>();
  const serviceOf = (host: string, port: number) => {
    const key = `${host}:${port}`;
    let service = services.get(key);
    if (service === undefined) {
      const decision = decideConnect(egress, host, port);
      service = decision.allow ? (decision.service ?? '') : '';
      if (services.size >= CACHE_ENTRIES) services.clear();
      services.set(key, service);
    }
    return service;
  };
  const hosts = new Map<string, ReturnType<typeof normalizeHost>>();
  const normalized = (host: string) => {
    let result = hosts.get(host);
    if (result === undefined) {
      result = normalizeHost(host);
      if (hosts.size >= CACHE_ENTRIES) hosts.clear();
      hosts.set(host, result);
    }
    return result;
  };
  const destination = (host: unknown, port: unknown): { host: string; port: number } | Refusal => {
    if (!isText(host, REQUEST_LIMITS.nameChars))
      return refuse('host_invalid', 'host must be a non-empty string');
    if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535)
      return refuse('request_invalid', 'port must be an integer from 1 to 65535');
    const result = normalized(host);
    if (result.kind === 'invalid') return refuse('host_invalid', `"${host}": ${result.reason}`);
    return { host: result.host, port: port as number };
  };
  const authority = (host: string, port: number) => `${host.includes(':') ? `[${host}]` : host}:${port}`;

  return (request) => {
    switch (request?.action) {
      case 'exec': {
        const argv = request.argv as unknown;
        if (!Array.isArray(argv) || argv.length === 0)
          return refuse('request_invalid', 'argv must be a non-empty array');
        if (argv.length > REQUEST_LIMITS.argvWords)
          return refuse('request_too_large', `argv has more than ${REQUEST_LIMITS.argvWords} words`);
        for (const word of argv) {
          if (typeof word !== 'string' || !word.isWellFormed() || word.includes('\0'))
            return refuse('request_invalid', 'argv words must be strings without NUL');
        }
        if (argv[0] === '') return refuse('request_invalid', 'argv[0] must not be empty');
        const command = renderCommandLine(argv);
        if (command.length > REQUEST_LIMITS.commandChars)
          return refuse(
            'request_too_large',
            `the command line is longer than ${REQUEST_LIMITS.commandChars}`,
          );
        const program = programName(argv[0]);
        const commandBasename =
          program === argv[0]
            ? command
            : `${renderWord(program)}${command.slice(renderWord(argv[0]).length)}`;
        const args = SetValue.ofDistinctStrings([...new Set<string>(argv.slice(1))]);
        return {
          action: 'exec',
          resourceType: ENTITY.command,
          resourceId: command,
          context: recordOf([
            ['command', command],
            ['commandBasename', commandBasename],
            ['program', program],
            ['args', args],
          ]),
          key: `exec\0${command}`,
        };
      }
      case 'read_file':
      case 'write_file': {
        const path = request.path as unknown;
        if (typeof path !== 'string' || !path.isWellFormed())
          return refuse('path_invalid', 'path must be a string');
        if (path.length > REQUEST_LIMITS.pathChars)
          return refuse('request_too_large', `the path is longer than ${REQUEST_LIMITS.pathChars}`);
        const problem = pathProblem(path);
        if (problem) return refuse('path_invalid', problem);
        return {
          action: request.action,
          resourceType: ENTITY.file,
          resourceId: path,
          context: recordOf([['path', path]]),
          key: `${request.action}\0${path}`,
        };
      }
      case 'connect': {
        const target = destination(request.host, request.port);
        if ('refused' in target) return target;
        return {
          action: 'connect',
          resourceType: ENTITY.host,
          resourceId: authority(target.host, target.port),
          context: recordOf([
            ['host', target.host],
            ['port', target.port],
            ['service', serviceOf(target.host, target.port)],
          ]),
          key: `connect\0${target.host}\0${target.port}`,
        };
      }
      case 'http_request':
        return httpInput(request);
      case 'mcp_call': {
        const { server, tool } = request;
        if (!isText(server, REQUEST_LIMITS.nameChars) || CONTROL.test(server) || server.includes('/'))
          return refuse('request_invalid', 'server must be a name without "/" or control characters');
        if (!isText(tool, REQUEST_LIMITS.nameChars) || CONTROL.test(tool))
          return refuse('request_invalid', 'tool must be a name without control characters');
        let args: string;
        try {
          args = canonicalJson(request.arguments ?? {});
        } catch {
          return refuse('request_invalid', 'arguments must be JSON');
        }
        if (args.length > REQUEST_LIMITS.argumentsChars)
          return refuse('request_too_large', `arguments are longer than ${REQUEST_LIMITS.argumentsChars}`);
        if (!args.isWellFormed()) return refuse('request_invalid', 'arguments hold an unpaired surrogate');
        return {
          action: 'mcp_call',
          resourceType: ENTITY.mcpTool,
          resourceId: `${server}/${tool}`,
          context: recordOf([
            ['server', server],
            ['tool', tool],
            ['arguments', args],
          ]),
          key: `mcp_call\0${server}\0${tool}\0${args}`,
        };
      }
      default:
        return refuse(
          'request_invalid',
          'action must be one of exec, read_file, write_file, connect, http_request, mcp_call',
        );
    }
  };

  function httpInput(request: Extract<DecisionRequest, { action: 'http_request' }>): EvalInput | Refusal {
    const method = request.method as unknown;
    if (typeof method !== 'string' || !METHOD.test(method))
      return refuse('request_invalid', 'method must be an upper-case token such as GET');
    let host: unknown;
    let port: unknown;
    let path: unknown;
    if ('url' in request) {
      const url = request.url as unknown;
      if (!isText(url, REQUEST_LIMITS.pathChars)) return refuse('request_invalid', 'url must be a string');
      const form = URL_FORM.exec(url);
      const parts = form && splitAuthority(form[2]!, form[1]!.toLowerCase() === 'https' ? 443 : 80);
      if (!form || !parts) return refuse('request_invalid', 'url must be http(s)://host[:port]/path');
      ({ host, port } = parts);
      path = form[3] === '' ? '/' : form[3];
    } else {
      ({ host, port, path } = request);
    }
    const target = destination(host, port);
    if ('refused' in target) return target;
    if (typeof path !== 'string' || !path.isWellFormed() || CONTROL.test(path) || /[\s#]/u.test(path))
      return refuse('request_invalid', 'path must be a string without whitespace, "#" or control characters');
    if (path.length > REQUEST_LIMITS.pathChars)
      return refuse('request_too_large', `the path is longer than ${REQUEST_LIMITS.pathChars}`);
    const bare = path.includes('?') ? path.slice(0, path.indexOf('?')) : path;
    const ambiguous = ambiguousPath(bare);
    if (ambiguous) return refuse('path_ambiguous', ambiguous);
    const matches: string[] = [];
    for (const glob of globs) if (glob.regex.test(bare)) matches.push(glob.source);
    return {
      action: 'http_request',
      resourceType: ENTITY.httpRequest,
      resourceId: `${method} ${authority(target.host, target.port)}${bare}`,
      context: recordOf([
        ['host', target.host],
        ['port', target.port],
        ['service', serviceOf(target.host, target.port)],
        ['method', method],
        ['path', bare],
        ['pathMatches', SetValue.ofDistinctStrings(matches)],
      ]),
      key: `http_request\0${method}\0${target.host}\0${target.port}\0${bare}`,
    };
  }
}

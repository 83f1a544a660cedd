import { PaddockError } from '../../core/errors.ts';
import { type DecisionRequest, POLICY_ACTIONS, type PolicyAction } from '../../policy/index.ts';

// `paddock policy explain --action A --resource '…'`: the resource as a person types it, turned
// into the request a hook or gateway would send.
//
//   exec          'git push origin main'        words split as a shell would ('…', "…", \)
//   read_file     '/workspace/src/index.ts'
//   write_file    '/workspace/src/index.ts'
//   connect       'api.github.com:443'          port 443 when omitted; [v6]:port for IPv6
//   http_request  'POST https://api.github.com/repos/a/b/pulls/1/reviews'
//   mcp_call      'github/create_pending_review' (+ --arguments JSON)

function usage(message: string): PaddockError {
  return new PaddockError('PDK_CLI_USAGE', message);
}

/** Splits a command line into words: single quotes literal, double quotes with \" and \\, backslash escapes. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let index = 0; index < line.length; index++) {
    const char = line[index]!;
    if (char === "'") {
      const end = line.indexOf("'", index + 1);
      if (end < 0) throw usage('unterminated single quote in --resource');
      word += line.slice(index + 1, end);
      index = end;
      inWord = true;
    } else if (char === '"') {
      let end = index + 1;
      for (; end < line.length && line[end] !== '"'; end++) {
        if (line[end] === '\\' && (line[end + 1] === '"' || line[end + 1] === '\\')) end++;
        word += line[end];
      }
      if (end >= line.length) throw usage('unterminated double quote in --resource');
      index = end;
      inWord = true;
    } else if (char === '\\' && index + 1 < line.length) {
      word += line[++index];
      inWord = true;
    } else if (/\s/u.test(char)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** The decision request for an action and a typed resource. Throws PDK_CLI_USAGE on a bad form. */
export function requestFromResource(
  action: string,
  resource: string,
  argumentsJson?: string,
): DecisionRequest {
  if (!(POLICY_ACTIONS as readonly string[]).includes(action))
    throw usage(`--action must be one of ${POLICY_ACTIONS.join(', ')}, got "${action}"`);
  switch (action as PolicyAction) {
    case 'exec': {
      const argv = shellWords(resource);
      if (argv.length === 0)
        throw usage('--resource for exec is a command line, e.g. "git push origin main"');
      return { action: 'exec', argv };
    }
    case 'read_file':
    case 'write_file':
      return { action: action as 'read_file' | 'write_file', path: resource };
    case 'connect': {
      const match = /^(\[[^\]]*\]|[^:]+)(?::(\d+))?$/u.exec(resource.trim());
      if (!match) throw usage('--resource for connect is HOST[:PORT], e.g. "api.github.com:443"');
      return { action: 'connect', host: match[1]!, port: match[2] === undefined ? 443 : Number(match[2]) };
    }
    case 'http_request': {
      const [method, url, ...rest] = resource.trim().split(/\s+/u);
      if (!method || !url || rest.length > 0)
        throw usage('--resource for http_request is "METHOD URL", e.g. "GET https://api.github.com/user"');
      return { action: 'http_request', method, url };
    }
    case 'mcp_call': {
      const slash = resource.indexOf('/');
      if (slash <= 0 || slash === resource.length - 1)
        throw usage('--resource for mcp_call is SERVER/TOOL, e.g. "github/create_pending_review"');
      let args: unknown = {};
      if (argumentsJson !== undefined) {
        try {
          args = JSON.parse(argumentsJson);
        } catch {
          throw usage('--arguments must be JSON');
        }
      }
      return {
        action: 'mcp_call',
        server: resource.slice(0, slash),
        tool: resource.slice(slash + 1),
        arguments: args,
      };
    }
  }
}

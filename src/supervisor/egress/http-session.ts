import type { Duplex } from 'node:stream';
import type { Admitted, ClientConnection, GatewayCore } from './admission.ts';
import { type ExchangeError, exchange, type UpstreamConnection } from './http-exchange.ts';
import {
  connectionTokens,
  headerValue,
  parseRequestHead,
  type RequestHead,
  requestFraming,
} from './http-head.ts';
import { checkRequest, reportDenied, requestUrl, reviewRuleFor } from './request-check.ts';
import { holdForReview } from './review-hold.ts';
import { type PreparedRequest, prepareRequest } from './request-rewrite.ts';
import { type EgressErrorBody, errorBody, errorResponse } from './responses.ts';
import { requestTarget, type SessionMode } from './session-target.ts';
import { SocketReader } from './socket-reader.ts';
import { splice } from './splice.ts';
import { UpstreamSlot } from './upstream-slot.ts';

// The HTTP/1.1 request loop of one client connection: read a head, find and check its
// destination, decide (inspected services: method and path), swap the credential in, and
// forward. One request is in flight at a time; pipelined requests wait, buffered and
// unread, until the previous response has passed, so every request is checked before a
// byte of it leaves.

export type { SessionMode } from './session-target.ts';

export interface SessionResult {
  /** A CONNECT request that arrived on an explicit-proxy connection, for the listener to tunnel. */
  readonly connect?: RequestHead;
}

type Step = 'next' | SessionResult;
const DONE: SessionResult = {};
const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

/** Serves requests on `client` until it closes, a request is refused for good, or (explicit proxy) a CONNECT arrives. */
export async function runHttpSession(
  core: GatewayCore,
  connection: ClientConnection,
  client: Duplex,
  mode: SessionMode,
  reader: SocketReader = new SocketReader(client),
): Promise<SessionResult> {
  const session = new HttpSession(core, connection, client, mode, reader);
  try {
    for (;;) {
      const step = await session.step();
      if (step !== 'next') return step;
    }
  } finally {
    session.closeUpstream();
  }
}

class HttpSession {
  private current: Admitted | undefined;
  private readonly upstream = new UpstreamSlot();

  private readonly core: GatewayCore;
  private readonly connection: ClientConnection;
  private readonly client: Duplex;
  private readonly mode: SessionMode;
  private readonly reader: SocketReader;

  constructor(
    core: GatewayCore,
    connection: ClientConnection,
    client: Duplex,
    mode: SessionMode,
    reader: SocketReader,
  ) {
    this.core = core;
    this.connection = connection;
    this.client = client;
    this.mode = mode;
    this.reader = reader;
    this.current = mode.kind === 'bound' ? mode.admitted : undefined;
  }

  closeUpstream(): void {
    this.upstream.close();
  }

  async step(): Promise<Step> {
    const { core, connection, reader } = this;
    // A head already buffered (keep-alive, pipelined) is parsed without a trip through a promise.
    const ready =
      reader.length > 0
        ? parseRequestHead(reader.peek(), core.limits.maxHeaderBytes, core.limits.maxHeaderCount)
        : undefined;
    const parsed = ready === undefined || ready.kind === 'incomplete' ? await this.readHead() : ready;
    if (parsed === undefined) {
      // The client finished (or vanished): end our side too, as the listeners allow half-open sockets.
      this.client.end();
      return DONE;
    }
    if (parsed.kind === 'error') {
      const code = parsed.reason === 'header_too_large' ? 'PDK_EGRESS_LIMIT' : 'PDK_EGRESS_BAD_REQUEST';
      return this.malformed(errorBody(code, parsed.reason, { detail: parsed.detail }));
    }
    const head = parsed.head;
    if (head.method === 'CONNECT') {
      if (this.mode.kind !== 'proxy')
        return this.malformed(
          errorBody('PDK_EGRESS_BAD_REQUEST', 'request_malformed', { detail: 'CONNECT inside a tunnel' }),
        );
      reader.consume(head.length);
      return { connect: head };
    }
    const framing = requestFraming(head);
    if ('detail' in framing)
      return this.malformed(
        errorBody('PDK_EGRESS_BAD_REQUEST', 'request_malformed', { detail: framing.detail }),
      );
    const bodyStart = reader.peek().subarray(head.length, head.length + core.limits.scanBodyBytes);
    reader.consume(head.length);
    const hasBody = framing.kind !== 'none';

    const target = await requestTarget(core, connection, this.mode, this.current, head);
    if (!target.ok) {
      if (!target.decision) return this.malformed(target.body);
      reportDenied(core, connection, target.decision, head, this.current);
      return this.refuse(target.body, !hasBody, head);
    }
    const admitted = target.admitted;
    if (admitted !== this.current) this.closeUpstream();
    this.current = admitted;
    const scheme = this.mode.kind === 'bound' ? this.mode.scheme : 'http';
    const url = requestUrl(scheme, admitted, target.path + target.query);
    let decision = checkRequest(core, connection, admitted, head, target.path, bodyStart);
    if (!decision.allow) {
      reportDenied(core, connection, decision, head, admitted, url);
      const body = errorBody('PDK_EGRESS_DENIED', decision.reason, {
        service: admitted.service.name,
        method: head.method,
        path: target.path,
        detail: decision.detail,
        missingRule: decision.missingRule,
      });
      return this.refuse(body, !hasBody, head);
    }
    // A write a review gate covers is held (review-hold.ts); only an approved one goes on.
    let reviewId: string | undefined;
    const reviewRule = reviewRuleFor(core, admitted, head, target.path);
    if (reviewRule !== undefined) {
      const held = await holdForReview(core, connection, {
        admitted,
        head,
        framing,
        reader,
        client: this.client,
        url,
        path: target.path,
        rule: reviewRule,
      });
      if (held.kind === 'closed') {
        this.client.destroy();
        return DONE;
      }
      if (held.kind === 'answered') {
        this.client.write(held.response);
        if (held.keepAlive) return 'next';
        this.client.end();
        return DONE;
      }
      reviewId = held.reviewId;
      decision = {
        ...decision,
        reason: 'review_approved',
        rule: reviewRule,
        detail: `review ${reviewId} approved this exact request; it went through once`,
      };
    }

    let prepared: PreparedRequest;
    let upstream: UpstreamConnection;
    try {
      prepared = await prepareRequest(core, admitted, head, target.path + target.query);
      upstream =
        this.upstream.reusable(admitted, scheme) ?? (await this.upstream.for(core, admitted, scheme));
    } catch (error) {
      core.log.upstreamFailed({
        connectionId: connection.id,
        host: admitted.host,
        port: admitted.port,
        service: admitted.service.name,
        error: (error as Error).message,
      });
      const body = errorBody('PDK_EGRESS_UPSTREAM', 'upstream_failed', {
        service: admitted.service.name,
        method: head.method,
        path: target.path,
      });
      return this.refuse(body, false);
    }
    const facts = {
      connectionId: connection.id,
      sourceIp: connection.sourceIp,
      host: admitted.host,
      port: admitted.port,
      ip: admitted.addresses[0],
    };
    try {
      const result = await exchange({
        client: this.client,
        clientReader: reader,
        upstream,
        head: prepared.head,
        method: head.method,
        framing,
        upgrade: prepared.upgrade,
        guard: prepared.guard,
        onLeak: () => {
          core.log.secretReflected({
            connectionId: connection.id,
            host: admitted.host,
            service: admitted.service.name,
          });
          this.client.destroy();
          this.closeUpstream();
        },
        maxResponseHeadBytes: MAX_RESPONSE_HEAD_BYTES,
      });
      if (admitted.inspect) {
        core.audit.request(
          decision,
          {
            method: head.method,
            url,
            userAgent: headerValue(head, 'user-agent'),
            responseCode: result.status,
          },
          facts,
          reviewId,
        );
      }
      if (result.upgraded) return this.upgrade(this.upstream.take()!);
      const clientWantsClose =
        head.version === '1.0'
          ? !connectionTokens(head).has('keep-alive')
          : connectionTokens(head).has('close');
      if (result.keepAlive && !clientWantsClose) return 'next';
      this.client.end();
      return DONE;
    } catch (error) {
      this.closeUpstream();
      const failure = error as ExchangeError;
      // The request went upstream (in part at least) under this decision: audited like any
      // inspected request, with what failed and without a response code, as none was relayed.
      if (admitted.inspect) {
        core.audit.request(
          {
            ...decision,
            detail: [decision.detail, `the exchange failed: ${failure.message}`].filter(Boolean).join('; '),
          },
          { method: head.method, url, userAgent: headerValue(head, 'user-agent') },
          facts,
          reviewId,
        );
      }
      if (failure.clientFault) {
        core.log.malformed({
          connectionId: connection.id,
          listener: connection.listener,
          reason: 'request_malformed',
          detail: failure.message,
        });
      } else {
        core.log.upstreamFailed({
          connectionId: connection.id,
          host: admitted.host,
          port: admitted.port,
          service: admitted.service.name,
          error: failure.message,
        });
      }
      if (failure.responded || this.client.destroyed) {
        this.client.destroy();
        return DONE;
      }
      const code = failure.clientFault ? 'PDK_EGRESS_BAD_REQUEST' : 'PDK_EGRESS_UPSTREAM';
      const reason = failure.clientFault ? 'request_malformed' : 'upstream_failed';
      return this.refuse(
        errorBody(code, reason, { service: admitted.service.name, method: head.method, path: target.path }),
        false,
      );
    }
  }

  /** Answers with a gateway error; keeps the connection only when asked and nothing of the request is left unread. */
  private refuse(body: EgressErrorBody, keepAlive: boolean, head?: RequestHead): Step {
    if (head && clientWantsClose(head)) keepAlive = false;
    this.client.write(errorResponse(body, keepAlive));
    if (keepAlive) return 'next';
    this.client.end();
    return DONE;
  }

  private malformed(body: EgressErrorBody): Step {
    this.core.log.malformed({
      connectionId: this.connection.id,
      listener: this.connection.listener,
      reason: body.reason,
      detail: body.detail ?? '',
    });
    return this.refuse(body, false);
  }

  private upgrade(upstream: UpstreamConnection): Step {
    const fromClient = this.reader.detach();
    if (fromClient.length > 0) upstream.socket.write(fromClient);
    const fromUpstream = upstream.reader.detach();
    if (fromUpstream.length > 0) this.client.write(fromUpstream);
    splice(this.client, upstream.socket, { idleTimeoutMs: this.core.limits.idleTimeoutMs });
    return DONE;
  }

  private async readHead() {
    const { core, reader } = this;
    let timer: NodeJS.Timeout | undefined;
    try {
      for (;;) {
        const parsed = parseRequestHead(
          reader.peek(),
          core.limits.maxHeaderBytes,
          core.limits.maxHeaderCount,
        );
        if (parsed.kind !== 'incomplete') return parsed;
        // The idle timeout covers a quiet keep-alive connection; a head, once started, must finish in time.
        if (reader.length > 0 && !timer)
          timer = setTimeout(() => this.client.destroy(), core.limits.headersTimeoutMs);
        try {
          await reader.more();
        } catch {
          return undefined;
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

/** HTTP/1.0 closes unless asked to keep alive; HTTP/1.1 keeps alive unless asked to close. */
function clientWantsClose(head: RequestHead): boolean {
  const tokens = connectionTokens(head);
  return head.version === '1.0' ? !tokens.has('keep-alive') : tokens.has('close');
}

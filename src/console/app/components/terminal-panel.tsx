// A live terminal into a workspace: xterm.js over the access broker's WebSocket.
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import { useEffect, useRef, useState } from 'react';
import {
  binaryStringToBytes,
  describeControl,
  parseServerControl,
  resizeMessage,
  terminalUrl,
} from '../terminal-protocol.ts';
import { XTERM_OPTIONS } from './xterm-options.ts';

type TerminalState = 'connecting' | 'open' | 'ended';

interface TerminalPanelProps {
  readonly workspaceId: string;
  readonly onClose: () => void;
}

export function TerminalPanel({ workspaceId, onClose }: TerminalPanelProps) {
  const hostRef = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<TerminalState>('connecting');
  const [detail, setDetail] = useState('Connecting…');

  useEffect(() => {
    const host = hostRef.current;
    if (!host) return;
    const terminal = new Terminal({ ...XTERM_OPTIONS, cursorBlink: true });
    const fit = new FitAddon();
    terminal.loadAddon(fit);
    terminal.open(host);
    fit.fit();

    const dialled = { cols: terminal.cols, rows: terminal.rows };
    const socket = new WebSocket(terminalUrl(location, workspaceId, dialled.cols, dialled.rows));
    socket.binaryType = 'arraybuffer';
    const encoder = new TextEncoder();
    let opened = false;
    let ended = false;
    const end = (text: string) => {
      if (ended) return;
      ended = true;
      setState('ended');
      setDetail(text);
      terminal.options.cursorBlink = false;
    };
    const send = (data: Uint8Array<ArrayBuffer> | string) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(data);
    };

    socket.onopen = () => {
      opened = true;
      // A resize while connecting was not sent; catch the server up once.
      if (terminal.cols !== dialled.cols || terminal.rows !== dialled.rows)
        send(resizeMessage(terminal.cols, terminal.rows));
      setState('open');
      setDetail('Connected.');
      terminal.focus();
    };
    socket.onmessage = (event: MessageEvent<ArrayBuffer | string>) => {
      if (typeof event.data === 'string') {
        const control = parseServerControl(event.data);
        if (control) end(describeControl(control));
        return;
      }
      terminal.write(new Uint8Array(event.data));
    };
    socket.onclose = (event) => {
      const why = event.reason ? `: ${event.reason}` : ` (code ${event.code})`;
      end(
        opened ? `Disconnected${why}.` : `The terminal could not be opened${why}. Is the workspace running?`,
      );
    };

    const subscriptions = [
      terminal.onData((data) => send(encoder.encode(data))),
      terminal.onBinary((data) => send(binaryStringToBytes(data))),
      terminal.onResize(({ cols, rows }) => send(resizeMessage(cols, rows))),
    ];
    const observer = new ResizeObserver(() => {
      if (host.clientWidth > 0) fit.fit();
    });
    observer.observe(host);

    return () => {
      observer.disconnect();
      for (const subscription of subscriptions) subscription.dispose();
      socket.onclose = null;
      socket.close(1000, 'closed in the console');
      terminal.dispose();
    };
  }, [workspaceId]);

  return (
    <section className="panel terminal-panel" aria-labelledby="terminal-heading" data-testid="terminal-panel">
      <div className="panel-header">
        <h2 id="terminal-heading">Terminal</h2>
        <p className="terminal-status" role="status" data-testid="terminal-status" data-state={state}>
          {detail}
        </p>
        <button type="button" className="button secondary" onClick={onClose} data-testid="terminal-close">
          Close terminal
        </button>
      </div>
      <div className="terminal-host" ref={hostRef} data-testid="terminal" />
    </section>
  );
}

// A tiny history router: the console has five paths, not worth a dependency. The server
// answers index.html for each of them (see docs/console.md).
import { type MouseEvent, type ReactNode, useEffect, useState } from 'react';

const NAVIGATE_EVENT = 'paddock:navigate';

export function navigate(path: string): void {
  if (path === location.pathname + location.search) return;
  history.pushState(null, '', path);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

/** The current path; re-renders on navigation and on back/forward. */
export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    window.addEventListener('popstate', update);
    window.addEventListener(NAVIGATE_EVENT, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(NAVIGATE_EVENT, update);
    };
  }, []);
  return path;
}

interface LinkProps {
  readonly to: string;
  readonly children: ReactNode;
  readonly className?: string;
  readonly testId?: string;
  readonly current?: boolean;
}

/** An ordinary link (works with a new tab) that navigates in place on a plain click. */
export function Link({ to, children, className, testId, current }: LinkProps) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a
      href={to}
      onClick={onClick}
      className={className}
      data-testid={testId}
      aria-current={current ? 'page' : undefined}
    >
      {children}
    </a>
  );
}

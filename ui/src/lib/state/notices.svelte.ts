// Errors and notices shown in the banner stack.

import { ApiError } from '../backend/backend';
import { errorTitle } from '../backend/errors';

export interface Notice {
  id: number;
  kind: 'error' | 'info';
  title: string;
  message: string;
}

class Notices {
  items = $state<Notice[]>([]);
  private next = 1;

  push(kind: Notice['kind'], title: string, message: string): void {
    const id = this.next++;
    this.items = [...this.items.filter((n) => n.message !== message), { id, kind, title, message }];
    if (kind === 'info') setTimeout(() => this.dismiss(id), 4000);
  }

  dismiss(id: number): void {
    this.items = this.items.filter((n) => n.id !== id);
  }
}

export const notices = new Notices();

/** Shows a failed call in the banner. */
export function reportError(e: unknown): void {
  if (e instanceof ApiError) notices.push('error', errorTitle(e.code), e.message);
  else notices.push('error', 'Error', e instanceof Error ? e.message : String(e));
}

export function info(message: string): void {
  notices.push('info', 'Done', message);
}

/**
 * What a page of the dashboard is: it builds its DOM once on `mount`, and `refresh` fetches its
 * data (one /api call for most views) and updates that DOM in place. The shell calls `refresh`
 * every few seconds while the page is visible and the view is `live`.
 */
import type { Alert } from '../../api/types.ts';

export interface ViewContext {
  /** Alerts the view learned about (the overview carries them), for the banner. */
  readonly showAlerts: (alerts: readonly Alert[]) => void;
}

export interface View {
  /** Route: `#/<id>`. */
  readonly id: string;
  readonly title: string;
  /** Refreshed on the shell's timer (the inspector is not: it ranks on demand). */
  readonly live: boolean;
  mount(root: HTMLElement, ctx: ViewContext): void;
  refresh(): Promise<void>;
  unmount(): void;
}

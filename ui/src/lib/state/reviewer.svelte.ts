// Who reviews in this window, and the data directory's review settings (blind mode).
// The reviewer is chosen once per browser (kept in its local storage; two people on one
// server each choose their own) and defaults to the data directory's reviewer; the first
// reviewer chosen where the data directory has none becomes its default (the desktop app
// has one user).

import { backend } from '../backend';
import type { ReviewSettingsDto } from '../backend/types';

/** Where this browser keeps its reviewer. */
export const REVIEWER_STORAGE_KEY = 'alignscope.reviewer';

function stored(): string | null {
  try {
    return window.localStorage.getItem(REVIEWER_STORAGE_KEY);
  } catch {
    return null;
  }
}

class ReviewState {
  settings = $state<ReviewSettingsDto | null>(null);
  private chosen = $state<string | null>(stored());

  /** The reviewer decisions are recorded for (null until the settings are read). */
  get reviewer(): string | null {
    return this.chosen ?? this.settings?.reviewer ?? null;
  }

  /** Blind mode: the review view shows no score, rank or gold badge. */
  get blind(): boolean {
    return this.settings?.blind ?? false;
  }

  /** Reads the data directory's settings. */
  async load(): Promise<void> {
    this.settings = await backend.call('review_settings', {});
  }

  /** Checks and keeps `name` (a name or an ORCID iD) as this browser's reviewer; the
   *  stored form (`orcid:…` for an ORCID iD). */
  async choose(name: string): Promise<string> {
    const normal = await backend.call('normalise_reviewer', { name });
    try {
      window.localStorage.setItem(REVIEWER_STORAGE_KEY, normal);
    } catch {
      // Storage disabled: the choice lasts as long as the page.
    }
    this.chosen = normal;
    if (this.settings && !this.settings.reviewer_set) {
      this.settings = await backend.call('set_review_settings', { reviewer: normal });
    }
    return normal;
  }

  /** Rebinds review actions (action → key; empty restores the defaults). */
  async setShortcuts(shortcuts: Record<string, string>): Promise<void> {
    this.settings = await backend.call('set_review_settings', { shortcuts });
  }

  /** Turns blind mode on or off for the data directory. */
  async setBlind(blind: boolean): Promise<void> {
    this.settings = await backend.call('set_review_settings', { blind });
  }
}

export const review = new ReviewState();

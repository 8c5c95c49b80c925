/**
 * Modal prompts on a native <dialog>: the session's API key, and the admin key an action needs.
 * Keys are typed into password fields and never shown back.
 */
import { h } from './dom.ts';

export interface KeyPromptOptions {
  readonly id: string;
  readonly title: string;
  readonly message: string;
  readonly confirm: string;
  /** Shown in red under the message (why the previous attempt failed). */
  readonly error?: string;
  /** Extra fields between the message and the key (e.g. an alias choice). */
  readonly extra?: HTMLElement;
  readonly placeholder?: string;
}

/** Ask for a key; resolves with what was typed ('' allowed: the server then says what it needs) or null on cancel. */
export function promptKey(opts: KeyPromptOptions): Promise<string | null> {
  return new Promise((resolve) => {
    const input = h('input', { id: `${opts.id}-input`, type: 'password', autocomplete: 'off', spellcheck: 'false', placeholder: opts.placeholder ?? 'API key' });
    const form = h(
      'form',
      { method: 'dialog' },
      h('h2', null, opts.title),
      h('p', null, opts.message),
      opts.error ? h('p', { class: 'form-error', role: 'alert' }, opts.error) : null,
      opts.extra ?? null,
      h('label', null, 'Key', input),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'ghost', id: `${opts.id}-cancel`, value: 'cancel', onclick: () => close(null) }, 'Cancel'),
        h('button', { type: 'submit', class: 'primary', id: `${opts.id}-confirm`, value: 'ok' }, opts.confirm),
      ),
    );
    const dialog = h('dialog', { id: opts.id, class: 'modal' }, form);
    let done = false;
    const close = (value: string | null) => {
      if (done) return;
      done = true;
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      close(input.value.trim());
    });
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      close(null);
    });
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
}

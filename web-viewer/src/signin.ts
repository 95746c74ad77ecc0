// The sign-in page (a modal over the viewer or the wall, shown only when the server answers 401
// and no renewal is possible) and the "signed in as … · sign out" control.

import type { ApiClient } from './api';
import type { SignInError } from './auth';
import { lang, setLang, t, tf, type Lang } from './i18n';

/** Fired on `document` when the sign-in page switched the language (pages redraw their texts). */
export const LANG_EVENT = 'citytwin:lang';

/** The translated message for a sign-in failure (`n` counts the rate-limit wait down). */
export function errorText(e: SignInError, n = e.retryAfterS ?? 0): string {
  const msg = e.key === 'err_rate' ? tf('err_rate', { n }) : t(e.key);
  return e.detail && e.key !== 'err_rate' ? `${msg} (${e.detail})` : msg;
}

/** Makes `client` show the sign-in page whenever it needs a person to sign in. */
export function installSignIn(client: ApiClient): void {
  let pending: Promise<void> | null = null;
  client.setPrompt((reason) => (pending ??= showSignIn(client, reason).finally(() => { pending = null; })));
}

function showSignIn(client: ApiClient, reason: SignInError | null): Promise<void> {
  const hadSession = client.session() !== null;
  const before = document.activeElement as HTMLElement | null;
  const root = document.createElement('div');
  root.id = 'signin';
  root.className = 'signin-backdrop';
  root.innerHTML = `<form class="signin-card" role="dialog" aria-modal="true" aria-labelledby="signin-title"
      aria-describedby="signin-intro" novalidate>
    <div class="brand"><span class="logo"></span><h2 id="signin-title"></h2></div>
    <p id="signin-intro" class="meta"></p>
    <label for="signin-user" id="signin-user-label"></label>
    <input id="signin-user" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required />
    <label for="signin-pass" id="signin-pass-label"></label>
    <input id="signin-pass" name="password" type="password" autocomplete="current-password" required />
    <p id="signin-error" class="signin-error" role="alert" aria-live="assertive"></p>
    <div class="signin-actions">
      <button type="button" id="signin-lang"></button>
      <button type="submit" id="signin-submit" class="on"></button>
    </div>
  </form>`;
  const $ = <T extends HTMLElement>(id: string) => root.querySelector<T>(`#${id}`)!;
  const form = root.querySelector('form')!;
  const user = $<HTMLInputElement>('signin-user');
  const pass = $<HTMLInputElement>('signin-pass');
  const submit = $<HTMLButtonElement>('signin-submit');
  const errEl = $<HTMLElement>('signin-error');
  let error: SignInError | null = reason;
  let busy = false;
  let waitUntil = 0;
  let countdown: ReturnType<typeof setInterval> | 0 = 0;

  const session = client.session();
  if (session) user.value = session.user;

  const render = () => {
    $('signin-title').textContent = t('signin_title');
    $('signin-intro').textContent = hadSession ? t('session_expired') : t('signin_intro');
    $('signin-user-label').textContent = t('username');
    $('signin-pass-label').textContent = t('password');
    $('signin-lang').textContent = lang() === 'vi' ? 'English' : 'Tiếng Việt';
    $('signin-lang').setAttribute('lang', lang() === 'vi' ? 'en' : 'vi');
    const left = Math.max(0, Math.ceil((waitUntil - Date.now()) / 1000));
    submit.textContent = busy ? t('signing_in') : t('signin');
    submit.disabled = busy || left > 0;
    errEl.textContent = error ? errorText(error, left) : '';
    form.setAttribute('aria-busy', String(busy));
  };

  const showError = (e: SignInError) => {
    error = e;
    if (countdown) clearInterval(countdown);
    countdown = 0;
    if (e.key === 'err_rate') {
      waitUntil = Date.now() + (e.retryAfterS ?? 30) * 1000;
      countdown = setInterval(() => {
        render();
        if (Date.now() >= waitUntil) {
          clearInterval(countdown);
          countdown = 0;
          error = null;
          render();
        }
      }, 1000);
    }
    render();
  };

  // The page behind is out of reach (keyboard and screen readers) while signing in.
  const others = [...document.body.children].filter((el): el is HTMLElement => el instanceof HTMLElement && !el.inert);
  for (const el of others) el.inert = true;
  document.body.appendChild(root);
  render();
  (user.value ? pass : user).focus();

  $('signin-lang').addEventListener('click', () => {
    setLang((lang() === 'vi' ? 'en' : 'vi') as Lang);
    document.documentElement.lang = lang();
    document.dispatchEvent(new Event(LANG_EVENT));
    render();
  });

  return new Promise<void>((resolve) => {
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (busy || Date.now() < waitUntil) return;
      const name = user.value.trim();
      if (!name || !pass.value) {
        showError({ key: 'err_missing' });
        (name ? pass : user).focus();
        return;
      }
      busy = true;
      error = null;
      render();
      const e = await client.signIn(name, pass.value);
      busy = false;
      if (e) {
        if (e.key === 'err_credentials') pass.value = '';
        showError(e);
        (e.key === 'err_credentials' ? pass : user).focus();
        if (e.key === 'err_credentials') pass.select();
        return;
      }
      if (countdown) clearInterval(countdown);
      root.remove();
      for (const el of others) el.inert = false;
      before?.focus?.();
      resolve();
    });
  });
}

/**
 * The account control: "signed in as <user> · sign out" while a session is held (nothing on a
 * server without authentication). Sign-out forgets the tokens and reloads the page.
 */
export function mountAccount(el: HTMLElement, client: ApiClient, reload: () => void = () => location.reload()): () => void {
  const render = () => {
    const s = client.session();
    el.classList.toggle('hidden', !s);
    if (!s) {
      el.replaceChildren();
      return;
    }
    const who = document.createElement('span');
    who.className = 'account-name';
    who.textContent = tf('signed_in_as', { user: s.user });
    const out = document.createElement('button');
    out.type = 'button';
    out.id = 'btn-signout';
    out.textContent = t('sign_out');
    out.addEventListener('click', () => {
      client.signOut();
      reload();
    });
    el.replaceChildren(who, document.createTextNode(' · '), out);
  };
  client.onChange(render);
  render();
  return render;
}

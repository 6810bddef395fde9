import { createHash } from 'node:crypto';
import { DASHBOARD_JS } from './script.ts';
import { DASHBOARD_CSS } from './styles.ts';

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * The Content-Security-Policy of the page: only its own inline script and style (by
 * hash), fetches to its own origin, no frames, no forms posting anywhere.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${sha256(DASHBOARD_JS)}`,
  `style-src ${sha256(DASHBOARD_CSS)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/**
 * The dashboard page. It holds no data: it asks for a token and then fetches
 * `<basePath>admin/status` with it, so it may be served without auth.
 */
export function dashboardHtml(basePath: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>keyshift admin</title>
<link rel="icon" href="data:,">
<style>${DASHBOARD_CSS}</style>
</head>
<body data-base="${escapeAttribute(basePath)}">
<section id="login" hidden>
  <form id="login-form" autocomplete="off">
    <h1 class="logo">keyshift</h1>
    <p>Paste the admin token (<span class="mono">ADMIN_API_TOKEN</span>). It stays in this tab only.</p>
    <input id="token" name="token" type="password" placeholder="admin token" aria-label="admin token" spellcheck="false">
    <p class="error" id="login-error" role="alert"></p>
    <button class="primary" type="submit">Sign in</button>
  </form>
</section>
<div id="app" hidden>
  <header class="top">
    <span class="logo">keyshift</span>
    <span class="meta mono" id="managers"></span>
    <span class="spacer"></span>
    <span class="live" id="live"><span class="dot"></span><span id="live-text">connecting…</span></span>
    <button id="logout" type="button">Sign out</button>
  </header>
  <main>
    <section class="cards" aria-label="summary">
      <div class="card"><div class="label">Entries</div><div class="value" id="count-total">–</div></div>
      <div class="card ok"><div class="label">OK</div><div class="value" id="count-ok">–</div></div>
      <div class="card stale"><div class="label">Stale</div><div class="value" id="count-stale">–</div></div>
      <div class="card failing"><div class="label">Failing</div><div class="value" id="count-failing">–</div></div>
      <div class="card rejected"><div class="label">Rejected</div><div class="value" id="count-rejected">–</div></div>
      <div class="card halted"><div class="label">Rollouts halted</div><div class="value" id="count-halted">–</div></div>
      <div class="card firing"><div class="label">Alerts firing</div><div class="value" id="count-alerts">–</div></div>
    </section>
    <section class="alerts" id="alerts" aria-label="alerts" hidden></section>
    <div class="layout">
      <div id="tables"></div>
      <aside class="card cost" aria-label="store cost">
        <h3>Store access: this month</h3>
        <div class="label">projected cost</div>
        <div class="big" id="cost-month">–</div>
        <dl>
          <dt>Projected calls</dt><dd id="cost-calls">–</dd>
          <dt>Observed rate</dt><dd id="cost-rate">–</dd>
          <dt>Calls since start</dt><dd id="cost-total">–</dd>
          <dt>Observed over</dt><dd id="cost-window">–</dd>
        </dl>
        <div class="note">Projected from the steady rate (startup loads excluded) over 30 days at <span id="cost-price">–</span>.</div>
      </aside>
    </div>
  </main>
</div>
<div id="toasts" aria-live="polite"></div>
<script>${DASHBOARD_JS}</script>
</body>
</html>
`;
}

/** The dashboard's stylesheet: no external fonts or assets (the page must work on a closed network). */
export const DASHBOARD_CSS = `
:root {
  --bg: #0b1020; --panel: #121a2e; --panel-2: #0f1629; --line: #1f2a44; --text: #e2e8f0; --muted: #8b9ab5;
  --accent: #38bdf8; --ok: #22c55e; --stale: #f59e0b; --failing: #ef4444; --closed: #d946ef; --rejected: #a78bfa; --loading: #64748b;
  color-scheme: dark;
}
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--text); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
[hidden] { display: none !important; }
button { font: inherit; color: inherit; cursor: pointer; border-radius: 8px; border: 1px solid var(--line); background: #18233d; padding: 6px 12px; }
button:hover:not(:disabled) { border-color: var(--accent); }
button:disabled { opacity: .45; cursor: not-allowed; }
button.primary { background: var(--accent); color: #04111d; border-color: var(--accent); font-weight: 600; }
.mono, td.version, td.num { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-variant-numeric: tabular-nums; }

#login { min-height: 100vh; display: grid; place-items: center; padding: 24px; }
#login form { width: min(420px, 100%); background: var(--panel); border: 1px solid var(--line); border-radius: 16px; padding: 28px; box-shadow: 0 20px 60px rgba(0,0,0,.35); }
#login h1 { margin: 0 0 4px; font-size: 22px; }
#login p { margin: 0 0 18px; color: var(--muted); }
#login input { width: 100%; padding: 10px 12px; border-radius: 10px; border: 1px solid var(--line); background: var(--panel-2); color: var(--text); font: inherit; margin-bottom: 14px; }
#login input:focus { outline: 2px solid var(--accent); outline-offset: 1px; }
#login .error { color: var(--failing); min-height: 1.4em; margin: 0 0 10px; }
#login button { width: 100%; padding: 10px; }

.logo { display: inline-flex; align-items: center; gap: 8px; font-weight: 700; letter-spacing: .2px; }
.logo::before { content: ""; width: 12px; height: 12px; border-radius: 3px; transform: rotate(45deg); background: linear-gradient(135deg, var(--accent), #818cf8); }

header.top { position: sticky; top: 0; z-index: 5; display: flex; align-items: center; gap: 16px; padding: 12px 24px; background: rgba(11,16,32,.92); backdrop-filter: blur(6px); border-bottom: 1px solid var(--line); }
header.top .spacer { flex: 1; }
.live { display: inline-flex; align-items: center; gap: 8px; color: var(--muted); font-size: 13px; }
.live .dot { width: 9px; height: 9px; border-radius: 50%; background: var(--ok); box-shadow: 0 0 0 0 rgba(34,197,94,.6); animation: pulse 2s infinite; }
.live.down .dot { background: var(--failing); animation: none; }
@keyframes pulse { 0% { box-shadow: 0 0 0 0 rgba(34,197,94,.55); } 70% { box-shadow: 0 0 0 8px rgba(34,197,94,0); } 100% { box-shadow: 0 0 0 0 rgba(34,197,94,0); } }

main { padding: 20px 24px 48px; display: grid; gap: 20px; max-width: 1500px; margin: 0 auto; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 12px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 14px; padding: 14px 16px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .6px; }
.card .value { font-size: 26px; font-weight: 700; margin-top: 2px; font-variant-numeric: tabular-nums; }
.card.ok .value { color: var(--ok); } .card.stale .value { color: var(--stale); } .card.failing .value { color: var(--failing); }
.card.rejected .value { color: var(--rejected); } .card.firing .value { color: var(--failing); } .card.halted .value { color: var(--failing); }

.alerts { display: grid; gap: 8px; }
.alert { display: flex; gap: 12px; align-items: baseline; background: var(--panel); border: 1px solid var(--line); border-left: 4px solid var(--stale); border-radius: 10px; padding: 10px 14px; }
.alert.critical { border-left-color: var(--failing); }
.alert .sev { font-size: 11px; text-transform: uppercase; font-weight: 700; letter-spacing: .6px; color: var(--stale); }
.alert.critical .sev { color: var(--failing); }
.alert .since { margin-left: auto; color: var(--muted); font-size: 12px; white-space: nowrap; }

.layout { display: grid; grid-template-columns: minmax(0, 1fr) 270px; gap: 20px; align-items: start; }
@media (max-width: 1280px) { .layout { grid-template-columns: 1fr; } }
.manager { background: var(--panel); border: 1px solid var(--line); border-radius: 14px; overflow: hidden; }
.manager + .manager { margin-top: 20px; }
.manager > header { display: flex; align-items: center; gap: 12px; padding: 14px 16px; border-bottom: 1px solid var(--line); }
.manager > header h2 { margin: 0; font-size: 16px; }
.manager > header .meta { color: var(--muted); font-size: 13px; }
.manager > header .spacer { flex: 1; }
.table-wrap { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; }
th { text-align: left; font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .5px; padding: 10px 10px; background: var(--panel-2); white-space: nowrap; }
td { padding: 9px 10px; border-top: 1px solid var(--line); vertical-align: middle; white-space: nowrap; }
tr:hover td { background: rgba(56,189,248,.04); }
td.entry { white-space: normal; min-width: 210px; }
td.entry .name { font-weight: 600; word-break: break-word; }
td .sub { color: var(--muted); font-size: 12px; font-family: system-ui, sans-serif; }
tr.state-failing td:first-child { box-shadow: inset 3px 0 var(--failing); }
tr.state-fail-closed td:first-child { box-shadow: inset 3px 0 var(--closed); }
tr.state-stale td:first-child { box-shadow: inset 3px 0 var(--stale); }
tr.state-rejected td:first-child { box-shadow: inset 3px 0 var(--rejected); }
td.error { color: var(--muted); max-width: 190px; overflow: hidden; text-overflow: ellipsis; }
td.error.has { color: #fca5a5; }
.pill { display: inline-flex; align-items: center; gap: 6px; padding: 3px 10px; border-radius: 999px; font-size: 12px; font-weight: 600; background: rgba(100,116,139,.18); color: var(--loading); }
.pill::before { content: ""; width: 7px; height: 7px; border-radius: 50%; background: currentColor; }
.pill.ok { color: var(--ok); background: rgba(34,197,94,.12); }
.pill.stale { color: var(--stale); background: rgba(245,158,11,.13); }
.pill.failing { color: var(--failing); background: rgba(239,68,68,.14); }
.pill.fail-closed { color: var(--closed); background: rgba(217,70,239,.14); }
.pill.rejected { color: var(--rejected); background: rgba(167,139,250,.14); }
.chip { display: inline-block; padding: 0 6px; border-radius: 6px; border: 1px solid var(--line); color: var(--muted); font-size: 11px; margin-left: 6px; }
.rate { display: inline-flex; align-items: center; gap: 8px; }
.bar { width: 44px; height: 6px; border-radius: 3px; background: #26324f; overflow: hidden; }
.bar i { display: block; height: 100%; background: var(--ok); }
.bar.warn i { background: var(--stale); } .bar.bad i { background: var(--failing); }
td.rollout { min-width: 150px; }
td.rollout .sub { display: flex; align-items: center; gap: 6px; }
.pill.rollout.rolling-out { color: var(--accent); background: rgba(56,189,248,.12); }
.pill.rollout.halted { color: var(--failing); background: rgba(239,68,68,.16); }
.pill.rollout.promoted, .pill.rollout.rolled-out { color: var(--ok); background: rgba(34,197,94,.12); }
.bar.slice i { background: var(--accent); }
tr.rollout-halted td:first-child { box-shadow: inset 3px 0 var(--failing); }
tr.rollout-halted td.rollout { background: rgba(239,68,68,.07); }
button.refresh { padding: 4px 10px; font-size: 13px; }
tr.flash td { animation: flash 1.6s ease-out; }
@keyframes flash { from { background: rgba(56,189,248,.22); } to { background: transparent; } }

.cost h3 { margin: 0 0 12px; font-size: 15px; }
.cost dl { display: grid; grid-template-columns: 1fr auto; gap: 8px 12px; margin: 0; }
.cost dt { color: var(--muted); }
.cost dd { margin: 0; text-align: right; font-variant-numeric: tabular-nums; font-weight: 600; }
.cost .big { font-size: 30px; font-weight: 700; color: var(--accent); margin: 4px 0 14px; font-variant-numeric: tabular-nums; }
.cost .note { color: var(--muted); font-size: 12px; margin-top: 12px; }

#toasts { position: fixed; right: 20px; bottom: 20px; display: grid; gap: 8px; z-index: 10; }
.toast { background: #1b2642; border: 1px solid var(--line); border-left: 4px solid var(--accent); border-radius: 10px; padding: 10px 14px; max-width: 420px; box-shadow: 0 10px 30px rgba(0,0,0,.35); }
.toast.bad { border-left-color: var(--failing); }
`;

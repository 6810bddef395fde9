/**
 * The dashboard's browser script (plain ES2020, no build step). It keeps the admin
 * token in sessionStorage (this tab only), polls /admin/status every 1.5 s, and builds
 * every cell with textContent: nothing from the server is ever parsed as HTML.
 */
export const DASHBOARD_JS = `
(function () {
  'use strict';
  var base = document.body.getAttribute('data-base') || '/';
  var KEY = 'keyshift.adminToken';
  var POLL_MS = 1500;
  var rows = new Map();
  var sections = new Map();
  var timer = null;
  var polling = false;
  var lastOk = 0;
  var renders = 0;

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function token() { return sessionStorage.getItem(KEY) || ''; }
  function api(path, init) {
    init = init || {};
    var headers = Object.assign({}, init.headers || {}, { authorization: 'Bearer ' + token() });
    return fetch(base + path, Object.assign({}, init, { headers: headers, cache: 'no-store', credentials: 'omit' }));
  }

  function fmtMs(ms) {
    if (ms === undefined || ms === null) return '—';
    if (ms < 1000) return Math.round(ms) + ' ms';
    var s = Math.floor(ms / 1000);
    if (s < 60) return s + ' s';
    var m = Math.floor(s / 60);
    if (m < 60) return m + ' m' + (s % 60 ? ' ' + String(s % 60).padStart(2, '0') + ' s' : '');
    var h = Math.floor(m / 60);
    if (h < 48) return h + ' h' + (m % 60 ? ' ' + String(m % 60).padStart(2, '0') + ' m' : '');
    return Math.floor(h / 24) + ' d ' + (h % 24) + ' h';
  }
  function fmtLatency(ms) { return ms === undefined || ms === null ? '—' : (ms < 10 ? ms.toFixed(1) : String(Math.round(ms))); }
  function fmtInt(n) { return Math.round(n).toLocaleString('en-US'); }
  function fmtUsd(n) { return '$' + (n < 100 ? n.toFixed(2) : fmtInt(n)); }

  function toast(message, bad) {
    var node = el('div', 'toast' + (bad ? ' bad' : ''), message);
    $('toasts').appendChild(node);
    setTimeout(function () { node.remove(); }, 4500);
  }

  function showLogin(message) {
    if (timer) clearTimeout(timer);
    timer = null;
    $('app').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = message || '';
    $('token').focus();
  }
  function showApp() {
    $('login').hidden = true;
    $('app').hidden = false;
    poll();
  }

  function schedule() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(poll, POLL_MS);
  }

  function poll() {
    if (polling || !token()) return;
    polling = true;
    api('admin/status').then(function (res) {
      if (res.status === 401 || res.status === 403) {
        sessionStorage.removeItem(KEY);
        showLogin('That token was refused. Check ADMIN_API_TOKEN and try again.');
        return;
      }
      if (res.status === 429) {
        sessionStorage.removeItem(KEY);
        showLogin('Too many failed attempts from this address: wait ' + (res.headers.get('retry-after') || 'a few') + ' s.');
        return;
      }
      if (!res.ok) throw new Error('status ' + res.status);
      return res.json().then(function (status) {
        lastOk = Date.now();
        render(status);
        schedule();
      });
    }).catch(function () {
      $('live').classList.add('down');
      $('live-text').textContent = 'connection lost, retrying';
      schedule();
    }).finally(function () { polling = false; });
  }

  function render(status) {
    document.body.setAttribute('data-renders', String(++renders));
    $('live').classList.remove('down');
    $('live-text').textContent = 'live · updated ' + new Date(status.time).toLocaleTimeString();
    $('managers').textContent = status.managers.map(function (m) { return m.name; }).join(' · ');
    var counts = { total: 0, ok: 0, stale: 0, failing: 0, rejected: 0, halted: 0 };
    var seen = new Set();
    status.managers.forEach(function (m) {
      var section = managerSection(m);
      section.meta.textContent = 'source ' + m.source + ' · ' + m.entries.length + ' entries · ' + (m.ready ? 'ready' : 'not ready');
      m.entries.forEach(function (entry) {
        counts.total++;
        if (entry.state === 'ok') counts.ok++;
        else if (entry.state === 'stale') counts.stale++;
        else if (entry.state === 'failing' || entry.state === 'fail-closed') counts.failing++;
        else if (entry.state === 'rejected') counts.rejected++;
        if (entry.rollout && entry.rollout.halted) counts.halted++;
        var key = m.name + '/' + entry.name;
        seen.add(key);
        updateRow(section.tbody, key, m.name, entry);
      });
    });
    rows.forEach(function (row, key) { if (!seen.has(key)) { row.tr.remove(); rows.delete(key); } });
    $('count-total').textContent = counts.total;
    $('count-ok').textContent = counts.ok;
    $('count-stale').textContent = counts.stale;
    $('count-failing').textContent = counts.failing;
    $('count-rejected').textContent = counts.rejected;
    $('count-halted').textContent = counts.halted;
    $('count-alerts').textContent = status.alerts.length;
    renderAlerts(status.alerts);
    renderUsage(status.usage);
  }

  function managerSection(m) {
    var section = sections.get(m.name);
    if (section) return section;
    var root = el('section', 'manager');
    root.setAttribute('data-manager', m.name);
    var head = el('header');
    head.appendChild(el('h2', null, m.name));
    var meta = el('span', 'meta');
    head.appendChild(meta);
    head.appendChild(el('span', 'spacer'));
    var all = el('button', 'refresh-all', 'Refresh all');
    all.addEventListener('click', function () { refresh(m.name, undefined, all); });
    head.appendChild(all);
    root.appendChild(head);
    var wrap = el('div', 'table-wrap');
    var table = el('table');
    var thead = el('thead');
    var hr = el('tr');
    ['State', 'Entry', 'Version', 'Rollout', 'Age', 'Latency p50 / p99', 'Success', 'Last error', ''].forEach(function (h) { hr.appendChild(el('th', null, h)); });
    thead.appendChild(hr);
    table.appendChild(thead);
    var tbody = el('tbody');
    table.appendChild(tbody);
    wrap.appendChild(table);
    root.appendChild(wrap);
    $('tables').appendChild(root);
    section = { root: root, meta: meta, tbody: tbody };
    sections.set(m.name, section);
    return section;
  }

  function updateRow(tbody, key, manager, e) {
    var row = rows.get(key);
    if (!row) {
      var tr = el('tr');
      tr.setAttribute('data-entry', e.name);
      tr.setAttribute('data-manager', manager);
      var cells = {};
      ['state', 'entry', 'version', 'rollout', 'age num', 'latency num', 'success', 'error', 'action'].forEach(function (cls) {
        var td = el('td', cls);
        tr.appendChild(td);
        cells[cls.split(' ')[0]] = td;
      });
      cells.entry.appendChild(el('div', 'name', e.name));
      cells.entry.appendChild(el('div', 'sub'));
      cells.age.appendChild(el('div', 'value'));
      cells.age.appendChild(el('div', 'sub'));
      var pill = el('span', 'pill');
      cells.state.appendChild(pill);
      var button = el('button', 'refresh', 'Refresh');
      button.addEventListener('click', function () { refresh(manager, e.name, button); });
      cells.action.appendChild(button);
      tbody.appendChild(tr);
      row = { tr: tr, cells: cells, pill: pill, button: button, version: e.version };
      rows.set(key, row);
    }
    var c = row.cells;
    row.pill.className = 'pill ' + e.state;
    row.pill.textContent = e.state;
    if (row.stateClass) row.tr.classList.remove(row.stateClass);
    row.stateClass = 'state-' + e.state;
    row.tr.classList.add(row.stateClass);
    c.entry.lastChild.textContent = [e.category, e.type, e.kind, e.source, e.display].filter(Boolean).join(' · ');
    c.version.textContent = e.version === undefined ? '—' : e.version;
    renderRollout(row, e);
    c.age.firstChild.textContent = fmtMs(e.ageMs);
    c.age.lastChild.textContent = e.ttlMs ? 'ttl ' + fmtMs(e.ttlMs) : 'read once';
    c.latency.textContent = fmtLatency(e.latencyMs.p50) + ' / ' + fmtLatency(e.latencyMs.p99) + ' ms';
    c.success.textContent = '';
    if (e.successRate === undefined || e.successRate === null) {
      c.success.textContent = '—';
    } else {
      var pct = e.successRate * 100;
      var wrap = el('span', 'rate');
      var bar = el('span', 'bar' + (pct < 90 ? ' bad' : pct < 99 ? ' warn' : ''));
      var fill = el('i');
      fill.style.width = pct.toFixed(1) + '%';
      bar.appendChild(fill);
      wrap.appendChild(bar);
      wrap.appendChild(el('span', 'num', (pct === 100 ? '100' : pct.toFixed(1)) + ' %'));
      c.success.appendChild(wrap);
    }
    c.error.textContent = e.lastError ? e.lastError.code : '—';
    c.error.title = e.lastError ? e.lastError.message : '';
    c.error.className = 'error' + (e.lastError ? ' has' : '');
    var isStatic = e.kind === 'static';
    if (!row.busy) row.button.disabled = isStatic;
    row.button.title = isStatic ? 'static: read once at startup, never refreshed' : 'fetch ' + e.name + ' now';
    if (row.version !== undefined && e.version !== row.version) {
      row.tr.classList.remove('flash');
      void row.tr.offsetWidth;
      row.tr.classList.add('flash');
    }
    row.version = e.version;
  }

  // The canary rollout of an entry with an adoption policy (status entries[].rollout, or
  // rolledOut once it is over): versions, fractions and counts only, never a value.
  function renderRollout(row, e) {
    var td = row.cells.rollout;
    var r = e.rollout;
    var done = e.rolledOut;
    var state = r ? (r.halted ? 'halted' : 'rolling-out') : done ? (done.promoted ? 'promoted' : 'rolled-out') : 'none';
    td.setAttribute('data-rollout', state);
    row.tr.classList.toggle('rollout-halted', state === 'halted');
    td.textContent = '';
    if (state === 'none') { td.textContent = '—'; return; }
    if (!r) {
      td.appendChild(el('span', 'pill rollout ' + state, state === 'promoted' ? 'promoted' : 'rolled out'));
      td.appendChild(el('div', 'sub', 'version ' + done.version + (done.promoted ? ': served everywhere now (promote)' : ': served everywhere after its bake')));
      return;
    }
    var head = el('div', 'rollout-head');
    head.appendChild(el('span', 'pill rollout ' + state, r.halted ? 'halted' : 'rolling out'));
    head.appendChild(el('span', 'mono', ' v' + r.version));
    td.appendChild(head);
    var pct = Math.round(r.fraction * 100);
    var line = el('div', 'sub');
    if (r.halted) {
      line.textContent = 'by ' + (r.haltedBy || 'marker') + ' · ' + r.failures + ' / ' + r.maxFailures + ' failures · ' + (e.version === r.version ? 'still served here' : 'back on v' + (e.version === undefined ? '—' : e.version));
    } else {
      var bar = el('span', 'bar slice');
      var fill = el('i');
      fill.style.width = pct + '%';
      bar.appendChild(fill);
      line.appendChild(bar);
      line.appendChild(document.createTextNode(' ' + pct + ' % of the fleet · ' + (r.serving ? 'serving' : 'waiting') + ' · ' + r.failures + ' / ' + r.maxFailures + ' failures · ' + fmtMs(r.elapsedMs) + ' of ' + fmtMs(r.bakeMs)));
    }
    td.appendChild(line);
  }

  function renderAlerts(alerts) {
    var box = $('alerts');
    box.textContent = '';
    box.hidden = alerts.length === 0;
    alerts.forEach(function (a) {
      var item = el('div', 'alert ' + a.severity);
      item.appendChild(el('span', 'sev', a.severity));
      item.appendChild(el('span', 'msg', a.message));
      item.appendChild(el('span', 'since', 'since ' + new Date(a.since).toLocaleTimeString()));
      box.appendChild(item);
    });
  }

  function renderUsage(u) {
    $('cost-month').textContent = fmtUsd(u.projectedMonthlyCostUsd);
    $('cost-calls').textContent = fmtInt(u.projectedMonthlyAccesses);
    $('cost-rate').textContent = u.perMinute.toFixed(u.perMinute < 10 ? 2 : 0) + ' / min';
    $('cost-total').textContent = fmtInt(u.storeAccesses);
    $('cost-window').textContent = fmtMs(u.windowMs);
    $('cost-price').textContent = '$' + u.costPer10kUsd.toFixed(2) + ' per 10,000 access calls';
  }

  function refresh(manager, name, button) {
    var row = name ? rows.get(manager + '/' + name) : null;
    if (row) row.busy = true;
    button.disabled = true;
    var label = button.textContent;
    button.textContent = 'Refreshing…';
    var body = name ? { names: [name], manager: manager } : { manager: manager };
    api('admin/refresh', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      .then(function (res) {
        return res.json().then(function (data) {
          if (!res.ok) throw new Error((data.error && data.error.message) || ('refresh failed: ' + res.status));
          var results = data.results || [];
          var changed = results.filter(function (r) { return r.changed; });
          var failed = results.filter(function (r) { return r.error; });
          if (name && results[0]) {
            var r = results[0];
            toast(r.error ? name + ': ' + r.error.code : r.changed ? name + ': version ' + r.previousVersion + ' → ' + r.version : name + ': unchanged (version ' + r.version + ')' + (r.coalesced ? ', coalesced' : ''), Boolean(r.error));
          } else {
            toast(manager + ': ' + results.length + ' refreshed, ' + changed.length + ' changed' + (failed.length ? ', ' + failed.length + ' failed' : ''), failed.length > 0);
          }
        });
      })
      .catch(function (error) { toast(String(error.message || error), true); })
      .finally(function () {
        if (row) row.busy = false;
        button.textContent = label;
        button.disabled = false;
        poll();
      });
  }

  $('login-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var value = $('token').value.trim();
    $('token').value = '';
    if (!value) { showLogin('Paste the admin token.'); return; }
    sessionStorage.setItem(KEY, value);
    showApp();
  });
  $('logout').addEventListener('click', function () {
    sessionStorage.removeItem(KEY);
    showLogin('Signed out.');
  });
  setInterval(function () {
    if (lastOk && Date.now() - lastOk > 6000) { $('live').classList.add('down'); $('live-text').textContent = 'no update for ' + fmtMs(Date.now() - lastOk); }
  }, 1000);
  if (token()) showApp(); else showLogin('');
})();
`;

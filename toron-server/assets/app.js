// The Toron dashboard: one page, hash routes, plain ES2020, no build step and nothing from elsewhere.
//
// Routes: #/runs (start a run, the runs list), #/runs/<id> (live progress and events over SSE, cancel, the
// report, triage), #/incidents, #/incidents/<id>, #/history.
//
// Rules this file keeps:
// - Every string from the server goes into the DOM as text (textContent, createElement, setAttribute):
//   never innerHTML. The one piece of server HTML shown, a golden diff or a run's HTML report, goes into an
//   iframe's srcdoc with sandbox="" (no script, its own opaque origin).
// - The token is sent only as `Authorization: Bearer`, kept in sessionStorage, never put in a URL. Event
//   streams (EventSource cannot send headers) use a short-lived ticket from POST /v1/stream-tickets.
// - The page's CSP allows no inline script and no eval: handlers are attached here.
'use strict';

(() => {
  const TOKEN_KEY = 'toron.token';
  const POLL_LIST_MS = 2000;
  const POLL_RUN_MS = 3000;
  const POLL_INCIDENT_MS = 5000;
  const RECONNECT_MAX_MS = 5000;
  /** A report is written as its run ends: looked for this many times (a poll apart) before giving up. */
  const REPORT_TRIES = 5;
  /** The event types a run's stream sends (an EventSource only delivers named events one listens to). */
  const EVENT_TYPES = [
    'run.scheduled', 'run.waiting', 'run.started', 'case.started', 'case.attempt', 'case.finished',
    'gate.evaluated', 'incident.opened', 'incident.joined', 'run.finished', 'message',
  ];
  const TRIAGE_LABELS = [
    ['product-bug', 'Product bug'],
    ['test-issue', 'Test issue'],
    ['environment', 'Environment'],
  ];
  const STATUS_NEXT = {
    open: ['mitigated', 'resolved'],
    mitigated: ['resolved', 'reopened'],
    resolved: ['reopened'],
    reopened: ['mitigated', 'resolved'],
  };
  const BAD_OUTCOMES = new Set(['failed', 'errored', 'timed_out', 'timedout']);
  const SVG_NS = 'http://www.w3.org/2000/svg';

  // ---------------------------------------------------------------------------------------------------------
  // DOM helpers: text only.

  /**
   * An element. `props`: `class`, `text`, `testid`, `dataset`, `on<event>` handlers, DOM properties given
   * as non-strings (`checked: true`), any other attribute as a string. Children: nodes or strings (as text).
   */
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    setProps(el, props);
    add(el, children);
    return el;
  }

  /** An SVG element (attributes only). */
  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null) continue;
      if (k === 'testid') el.setAttribute('data-testid', v);
      else if (k === 'text') el.textContent = String(v);
      else el.setAttribute(k, String(v));
    }
    add(el, children);
    return el;
  }

  function setProps(el, props) {
    for (const [k, v] of Object.entries(props || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = String(v);
      else if (k === 'testid') el.dataset.testid = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (typeof v !== 'string' && k in el) el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }

  function add(el, ...children) {
    for (const c of children.flat(Infinity)) {
      if (c == null || c === false) continue;
      el.append(c instanceof Node ? c : String(c));
    }
  }

  function clear(el) {
    while (el.firstChild) el.firstChild.remove();
    return el;
  }

  function replace(el, ...children) {
    clear(el);
    add(el, children);
    return el;
  }

  function link(href, text, props) {
    return h('a', Object.assign({ href }, props || {}), text);
  }

  function runHref(id) {
    return '#/runs/' + encodeURIComponent(id);
  }

  function incidentHref(id) {
    return '#/incidents/' + encodeURIComponent(id);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Formatting.

  function fmtTime(iso) {
    if (!iso) return '—';
    return String(iso).replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC');
  }

  function fmtDuration(seconds) {
    if (seconds == null || !Number.isFinite(seconds)) return '—';
    if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
    if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
    const m = Math.floor(seconds / 60);
    return `${m} min ${Math.round(seconds - m * 60)} s`;
  }

  function fmtPercent(x) {
    if (x == null || !Number.isFinite(x)) return '—';
    const p = x * 100;
    return `${p === 100 || p === 0 ? p.toFixed(0) : p.toFixed(1)} %`;
  }

  function fmtMs(seconds) {
    if (seconds == null || !Number.isFinite(seconds)) return '—';
    const ms = seconds * 1000;
    return `${ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0)} ms`;
  }

  const RATE_METRICS = new Set(['pass_rate', 'determinism', 'coverage']);

  /** A KPI's value as a person reads it: rates in %, latencies in ms, durations in s, counts as integers. */
  function fmtKpi(metric, value) {
    if (value == null || !Number.isFinite(value)) return '—';
    if (RATE_METRICS.has(metric)) return fmtPercent(value);
    if (metric.startsWith('latency.')) return fmtMs(value);
    if (metric === 'duration') return fmtDuration(value);
    if (metric === 'throughput') return `${value.toFixed(1)}/s`;
    return Number.isInteger(value) ? String(value) : value.toFixed(3);
  }

  function kpiLabel(metric) {
    return metric.replace(/_/g, ' ').replace(/^latency\./, 'latency ');
  }

  function shortRun(id) {
    // run-2.5.0-20261202T082940Z → 12-02 08:29:40
    const m = /-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})/.exec(id || '');
    return m ? `${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6]}` : String(id);
  }

  function badge(kind, value, testid) {
    const v = value == null ? 'none' : String(value);
    return h('span', { class: `badge ${kind}-${v.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`, testid }, v);
  }

  function stateBadge(state, testid) {
    return badge('state', state, testid);
  }

  function verdictBadge(verdict, testid) {
    return badge('verdict', verdict || 'none', testid);
  }

  function outcomeBadge(outcome, testid) {
    return badge('outcome', outcome || 'none', testid);
  }

  function isLive(state) {
    return state === 'scheduled' || state === 'running';
  }

  // ---------------------------------------------------------------------------------------------------------
  // The API.

  class ApiError extends Error {
    constructor(status, kind, message, field) {
      super(message);
      this.status = status;
      this.kind = kind;
      this.field = field || null;
    }
  }

  function token() {
    try {
      return sessionStorage.getItem(TOKEN_KEY) || '';
    } catch (_) {
      return memoryToken;
    }
  }

  let memoryToken = '';

  function setToken(t) {
    memoryToken = t;
    try {
      if (t) sessionStorage.setItem(TOKEN_KEY, t);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch (_) {
      // Storage refused (private mode): the token lives in memory for this page.
    }
    document.getElementById('sign-out').hidden = !t;
  }

  async function errorOf(res) {
    let body = null;
    try {
      body = await res.json();
    } catch (_) {
      // Not JSON.
    }
    const e = body && body.error;
    if (e && typeof e.message === 'string') return new ApiError(res.status, e.kind || 'error', e.message, e.field);
    return new ApiError(res.status, 'http', `the server answered ${res.status} ${res.statusText}`);
  }

  /**
   * Call the API. `body`: a value sent as JSON, or `json`: JSON text as is (for seeds beyond 2^53).
   * `as`: 'json' (default) or 'text'. A 401 forgets the token and brings the prompt back.
   */
  async function api(path, opts) {
    const o = opts || {};
    const t = token();
    if (!t) {
      askToken();
      throw new ApiError(401, 'unauthorized', 'a token is needed');
    }
    const headers = { Authorization: `Bearer ${t}`, Accept: o.accept || 'application/json' };
    let body;
    if (o.json !== undefined) body = o.json;
    else if (o.body !== undefined) body = JSON.stringify(o.body);
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(path, { method: o.method || 'GET', headers, body, cache: 'no-store', credentials: 'omit' });
    } catch (e) {
      throw new ApiError(0, 'network', `cannot reach the server (${e && e.message ? e.message : e})`);
    }
    if (res.status === 401) {
      const err = await errorOf(res);
      setToken('');
      askToken(err.message);
      throw err;
    }
    if (!res.ok) throw await errorOf(res);
    return o.as === 'text' ? res.text() : res.json();
  }

  // ---------------------------------------------------------------------------------------------------------
  // The token prompt.

  let tokenWaiters = [];

  function askToken(message) {
    const dialog = document.getElementById('token-dialog');
    const err = document.getElementById('token-error');
    err.hidden = !message;
    err.textContent = message ? `The server refused the token: ${message}` : '';
    if (!dialog.open) {
      if (typeof dialog.showModal === 'function') dialog.showModal();
      else dialog.setAttribute('open', '');
    }
    document.getElementById('token-input').focus();
  }

  function setupTokenForm() {
    const dialog = document.getElementById('token-dialog');
    const form = document.getElementById('token-form');
    const input = document.getElementById('token-input');
    const err = document.getElementById('token-error');
    dialog.addEventListener('cancel', (e) => {
      if (!token()) e.preventDefault();
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const t = input.value.trim();
      if (!t) return;
      setToken(t);
      try {
        await api('/v1/manifests');
      } catch (x) {
        if (x.status !== 401) {
          err.hidden = false;
          err.textContent = x.message;
        }
        return;
      }
      input.value = '';
      err.hidden = true;
      dialog.close();
      const waiters = tokenWaiters;
      tokenWaiters = [];
      waiters.forEach((w) => w());
      route();
    });
    document.getElementById('sign-out').addEventListener('click', () => {
      setToken('');
      if (view) view.dispose();
      view = null;
      replace(app(), h('p', null, 'Signed out: the token is forgotten.'));
      askToken();
    });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Notices (errors of actions).

  let noticeTimer = null;

  function notice(message, kind) {
    const n = document.getElementById('notice');
    n.textContent = message;
    n.className = `notice ${kind || 'error'}`;
    n.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => {
      n.hidden = true;
    }, 8000);
  }

  function errorBox(e, testid) {
    const msg = e instanceof ApiError || e instanceof Error ? e.message : String(e);
    return h('p', { class: 'error', role: 'alert', testid: testid || 'error' }, msg);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Views: each route renders into a fresh root; leaving it stops its timers and streams.

  class View {
    constructor(name) {
      this.name = name;
      this.alive = true;
      this.timers = new Set();
      this.disposers = [];
      this.root = h('div', { class: `view view-${name}`, testid: `view-${name}` });
    }

    /** Run `fn` now and then every `ms` while this view is shown (skipped while the tab is hidden). */
    every(ms, fn) {
      const tick = async () => {
        if (!this.alive) return;
        if (!document.hidden) {
          try {
            await fn();
          } catch (e) {
            if (e.status !== 401) console.debug('poll failed', e);
          }
        }
        if (!this.alive) return;
        const t = setTimeout(() => {
          this.timers.delete(t);
          tick();
        }, ms);
        this.timers.add(t);
      };
      return tick();
    }

    onDispose(fn) {
      this.disposers.push(fn);
    }

    dispose() {
      this.alive = false;
      this.timers.forEach((t) => clearTimeout(t));
      this.timers.clear();
      this.disposers.forEach((f) => f());
      this.disposers = [];
    }
  }

  let view = null;

  function app() {
    return document.getElementById('app');
  }

  const ROUTES = [
    [/^#\/runs\/?$/, 'runs', viewRuns],
    [/^#\/runs\/([^/]+)\/?$/, 'runs', viewRun],
    [/^#\/incidents\/?$/, 'incidents', viewIncidents],
    [/^#\/incidents\/([^/]+)\/?$/, 'incidents', viewIncident],
    [/^#\/history\/?$/, 'history', viewHistory],
  ];

  function route() {
    const hash = location.hash || '#/runs';
    if (view) view.dispose();
    view = null;
    if (!token()) {
      replace(app(), h('p', { class: 'muted' }, 'Sign in with a token to see the runs.'));
      askToken();
      return;
    }
    for (const [re, nav, render] of ROUTES) {
      const m = re.exec(hash);
      if (!m) continue;
      document.querySelectorAll('[data-nav]').forEach((a) => {
        if (a.dataset.nav === nav) a.setAttribute('aria-current', 'page');
        else a.removeAttribute('aria-current');
      });
      const v = new View(nav);
      view = v;
      replace(app(), v.root);
      let args;
      try {
        args = m.slice(1).map(decodeURIComponent);
      } catch (_) {
        args = m.slice(1);
      }
      Promise.resolve(render(v, ...args)).catch((e) => {
        if (v.alive && e.status !== 401) add(v.root, errorBox(e, 'view-error'));
      });
      return;
    }
    location.replace('#/runs');
  }

  function heading(v, text, title) {
    document.title = `${title || text} · Toron`;
    return h('h1', { testid: 'page-title' }, text);
  }

  /**
   * The incident of each run, from the warroom: a run's view names only the incident its own end opened, not
   * one opened for it later over the API.
   */
  async function incidentsByRun() {
    const out = new Map();
    const list = await api('/v1/warroom/incidents');
    // Newest first: a run keeps the newest incident that names it.
    for (const i of list.slice().reverse()) {
      for (const r of new Set([i.run_id, ...(i.runs || [])])) {
        if (r) out.set(r, { id: i.id, severity: i.severity, status: i.status });
      }
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------------------
  // #/runs: the start form and the runs list.

  async function viewRuns(v) {
    const form = h('section', { class: 'card', 'aria-labelledby': 'start-title', testid: 'start-section' });
    const list = h('section', { 'aria-labelledby': 'runs-title', testid: 'runs-section' });
    add(v.root, heading(v, 'Runs'), form, list);
    renderStartForm(v, form).catch((e) => add(form, errorBox(e, 'start-error')));
    renderRunsList(v, list);
  }

  async function renderStartForm(v, box) {
    add(box, h('h2', { id: 'start-title' }, 'Start a run'));
    const manifests = await api('/v1/manifests');
    if (!v.alive) return;
    if (!manifests.length) {
      add(box, h('p', null, 'The server has no manifest.'));
      return;
    }
    const err = h('p', { class: 'error', role: 'alert', testid: 'start-error', hidden: true });
    const manifestSel = h('select', { id: 'start-manifest', testid: 'start-manifest', name: 'manifest' },
      manifests.map((m) => h('option', { value: m.name }, `${m.name} (${m.file})`)));
    const modeProfile = h('input', { type: 'radio', name: 'mode', value: 'profile', id: 'mode-profile',
      testid: 'start-mode-profile', checked: true });
    const modeSuites = h('input', { type: 'radio', name: 'mode', value: 'suites', id: 'mode-suites',
      testid: 'start-mode-suites' });
    const profileSel = h('select', { id: 'start-profile', testid: 'start-profile', name: 'profile' });
    const suitesBox = h('fieldset', { class: 'suites', testid: 'start-suites', disabled: true },
      h('legend', null, 'Suites'));
    const seed = h('input', { id: 'start-seed', testid: 'start-seed', name: 'seed', inputmode: 'numeric',
      autocomplete: 'off', placeholder: 'SIM_SEED or each case\'s own', pattern: '[0-9]*',
      'aria-describedby': 'seed-help' });
    const datasetSel = h('select', { id: 'start-dataset', testid: 'start-dataset', name: 'dataset' });
    const submit = h('button', { type: 'submit', testid: 'start-submit' }, 'Start the run');

    const fill = () => {
      const m = manifests.find((x) => x.name === manifestSel.value) || manifests[0];
      const names = Object.keys(m.profiles || {});
      replace(profileSel, names.map((p) => h('option', { value: p }, `${p} — ${m.profiles[p].join(', ')}`)));
      if (!names.length) {
        add(profileSel, h('option', { value: '' }, '(no profile: every suite)'));
      }
      const suiteInputs = (m.suites || []).map((su) => h('label', { class: 'check' },
        h('input', { type: 'checkbox', name: 'suite', value: su.name, testid: `start-suite-${su.name}` }),
        ` ${su.name} `, h('span', { class: 'muted' }, `(${su.cases} case${su.cases === 1 ? '' : 's'})`)));
      replace(suitesBox, h('legend', null, 'Suites'), suiteInputs);
      replace(datasetSel, h('option', { value: '' }, 'none'),
        (m.datasets || []).map((d) => h('option', { value: d }, d)));
      mode();
    };
    const mode = () => {
      const bySuites = modeSuites.checked;
      profileSel.disabled = bySuites;
      suitesBox.disabled = !bySuites;
    };
    manifestSel.addEventListener('change', fill);
    modeProfile.addEventListener('change', mode);
    modeSuites.addEventListener('change', mode);

    const form = h('form', { testid: 'start-form', novalidate: true },
      manifests.length > 1 ? h('div', { class: 'field' }, h('label', { for: 'start-manifest' }, 'Manifest'),
        manifestSel) : null,
      h('fieldset', { class: 'mode' }, h('legend', null, 'What to run'),
        h('label', { class: 'check', for: 'mode-profile' }, modeProfile, ' a profile'),
        h('label', { class: 'check', for: 'mode-suites' }, modeSuites, ' chosen suites')),
      h('div', { class: 'row' },
        h('div', { class: 'field' }, h('label', { for: 'start-profile' }, 'Profile'), profileSel),
        h('div', { class: 'field' }, h('label', { for: 'start-seed' }, 'Seed'), seed,
          h('small', { id: 'seed-help', class: 'muted' }, '0 to 18446744073709551615; empty: the default')),
        h('div', { class: 'field' }, h('label', { for: 'start-dataset' }, 'Data set'), datasetSel)),
      suitesBox,
      err,
      h('div', { class: 'actions' }, submit));
    if (manifests.length <= 1) manifestSel.value = manifests[0].name;
    fill();

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.hidden = true;
      const m = manifests.find((x) => x.name === manifestSel.value) || manifests[0];
      const fields = [`"manifest":${JSON.stringify(m.name)}`];
      if (modeSuites.checked) {
        const chosen = [...suitesBox.querySelectorAll('input[name=suite]:checked')].map((i) => i.value);
        if (!chosen.length) return showErr('Choose at least one suite.');
        fields.push(`"suites":${JSON.stringify(chosen)}`);
      } else if (profileSel.value) {
        fields.push(`"profile":${JSON.stringify(profileSel.value)}`);
      }
      const seedText = seed.value.trim();
      if (seedText) {
        // A u64: checked with BigInt and sent as digits, so a seed beyond 2^53 is not rounded.
        if (!/^\d{1,20}$/.test(seedText) || BigInt(seedText) > 18446744073709551615n) {
          seed.setAttribute('aria-invalid', 'true');
          return showErr('The seed is a whole number from 0 to 18446744073709551615.');
        }
        seed.removeAttribute('aria-invalid');
        fields.push(`"seed":${BigInt(seedText).toString()}`);
      }
      if (datasetSel.value) fields.push(`"dataset":${JSON.stringify(datasetSel.value)}`);
      submit.disabled = true;
      try {
        const r = await api('/v1/test-runs', { method: 'POST', json: `{${fields.join(',')}}` });
        location.hash = runHref(r.id);
      } catch (x) {
        if (x.status !== 401) showErr(x.field ? `${x.field}: ${x.message}` : x.message);
      } finally {
        submit.disabled = false;
      }
    });
    function showErr(msg) {
      err.textContent = msg;
      err.hidden = false;
    }
    add(box, form);
  }

  /** The KPIs a runs row shows, when the run has them. */
  const ROW_KPIS = ['pass_rate', 'determinism', 'coverage', 'latency.p99'];

  function renderRunsList(v, box) {
    const params = { state: '', profile: '', offset: 0, limit: 25 };
    const stateSel = h('select', { id: 'filter-state', testid: 'filter-state' },
      ['', 'scheduled', 'running', 'passed', 'failed', 'errored', 'cancelled']
        .map((x) => h('option', { value: x }, x || 'any')));
    const profileIn = h('input', { id: 'filter-profile', testid: 'filter-profile', placeholder: 'any',
      autocomplete: 'off', size: 12 });
    const count = h('p', { class: 'muted', testid: 'runs-count', 'aria-live': 'polite' });
    const tbody = h('tbody', { testid: 'runs-body' });
    const prev = h('button', { type: 'button', class: 'secondary', testid: 'runs-prev' }, 'Newer');
    const next = h('button', { type: 'button', class: 'secondary', testid: 'runs-next' }, 'Older');
    const table = h('table', { class: 'runs', testid: 'runs-table' },
      h('caption', { class: 'sr-only' }, 'Runs, newest first'),
      h('thead', null, h('tr', null, ['Run', 'State', 'Verdict', 'Profile or suites', 'Started', 'Duration',
        'Cases', 'KPIs', 'Incident'].map((c) => h('th', { scope: 'col' }, c)))),
      tbody);
    add(box,
      h('div', { class: 'bar' }, h('h2', { id: 'runs-title' }, 'Runs'),
        h('div', { class: 'filters' },
          h('label', { for: 'filter-state' }, 'State '), stateSel,
          h('label', { for: 'filter-profile' }, 'Profile '), profileIn)),
      count, h('div', { class: 'scroll' }, table), h('div', { class: 'pager' }, prev, next));

    const rows = new Map();
    let gen = 0;
    const load = async () => {
      const my = ++gen;
      const q = new URLSearchParams({ limit: String(params.limit), offset: String(params.offset) });
      if (params.state) q.set('state', params.state);
      if (params.profile) q.set('profile', params.profile);
      const page = await api(`/v1/test-runs?${q}`);
      if (page.runs.some((r) => !r.incident && r.verdict === 'NO-GO')) {
        const byRun = await incidentsByRun().catch(() => new Map());
        page.runs.forEach((r) => {
          if (!r.incident && byRun.has(r.id)) r.incident = byRun.get(r.id);
        });
      }
      if (!v.alive || my !== gen) return;
      count.textContent = page.total
        ? `${page.offset + 1}–${page.offset + page.runs.length} of ${page.total} run${page.total === 1 ? '' : 's'}`
        : 'No runs yet: start one above.';
      prev.disabled = page.offset === 0;
      next.disabled = page.offset + page.runs.length >= page.total;
      // Rows are kept by run id and rebuilt only when the run changed: the list updates live without
      // losing focus or selection.
      const seen = new Set();
      let before = null;
      for (let i = page.runs.length - 1; i >= 0; i--) {
        const r = page.runs[i];
        seen.add(r.id);
        const sig = JSON.stringify([r.state, r.verdict, r.progress, r.duration, (r.kpis || {}).run, r.incident]);
        let row = rows.get(r.id);
        if (!row || row.sig !== sig) {
          const el = runRow(r);
          if (row) row.el.replaceWith(el);
          row = { el, sig };
          rows.set(r.id, row);
        }
        if (row.el.nextSibling !== before || row.el.parentNode !== tbody) tbody.insertBefore(row.el, before);
        before = row.el;
      }
      for (const [id, row] of rows) {
        if (!seen.has(id)) {
          row.el.remove();
          rows.delete(id);
        }
      }
    };
    const reset = () => {
      params.offset = 0;
      load().catch((e) => notice(e.message));
    };
    stateSel.addEventListener('change', () => {
      params.state = stateSel.value;
      reset();
    });
    let typing = null;
    profileIn.addEventListener('input', () => {
      clearTimeout(typing);
      typing = setTimeout(() => {
        params.profile = profileIn.value.trim();
        reset();
      }, 300);
    });
    prev.addEventListener('click', () => {
      params.offset = Math.max(0, params.offset - params.limit);
      load().catch((e) => notice(e.message));
    });
    next.addEventListener('click', () => {
      params.offset += params.limit;
      load().catch((e) => notice(e.message));
    });
    v.every(POLL_LIST_MS, load);
  }

  function runRow(r) {
    const kpis = (r.kpis && r.kpis.run) || {};
    const shown = ROW_KPIS.filter((k) => kpis[k] != null);
    const total = r.progress && r.progress.total != null ? r.progress.total : null;
    const cases = isLive(r.state)
      ? h('span', { testid: 'run-progress' }, `${r.progress.done} / ${total == null ? '?' : total}`)
      : String(r.cases);
    return h('tr', { testid: 'run-row', dataset: { runId: r.id, state: r.state } },
      h('th', { scope: 'row' }, link(runHref(r.id), r.id, { testid: 'run-link' })),
      h('td', null, stateBadge(r.state, 'run-state')),
      h('td', null, verdictBadge(r.verdict, 'run-verdict')),
      h('td', null, r.profile || (r.suites || []).join(', ') || 'every suite'),
      h('td', null, h('time', { datetime: r.started }, fmtTime(r.started))),
      h('td', { class: 'num' }, isLive(r.state) ? '…' : fmtDuration(r.duration)),
      h('td', { class: 'num' }, cases),
      h('td', { testid: 'run-kpis' }, shown.length
        ? h('dl', { class: 'kpis' }, shown.map((k) => [h('dt', null, kpiLabel(k)), h('dd', null, fmtKpi(k, kpis[k]))]))
        : h('span', { class: 'muted' }, '—')),
      h('td', null, r.incident ? link(incidentHref(r.incident.id), r.incident.id) : ''));
  }

  // ---------------------------------------------------------------------------------------------------------
  // #/runs/<id>: live progress and events, cancel, the report, triage.

  /**
   * A run's event stream over SSE that survives a dropped connection: on any error the EventSource is
   * closed (its own retry would reuse a ticket that may have expired), a fresh ticket is fetched and the
   * stream reopened with `after=<last seq seen>`. Events at or before the last seq are dropped, so nothing
   * is shown twice, and the server resumes after it, so nothing is missed.
   */
  class RunStream {
    constructor(runId, onEvent, onStatus) {
      this.runId = runId;
      this.onEvent = onEvent;
      this.onStatus = onStatus;
      this.last = 0;
      this.es = null;
      this.closed = false;
      this.ended = false;
      this.retries = 0;
      this.timer = null;
      this.connects = 0;
      this.duplicates = 0;
      this.status = 'connecting';
      this.online = () => {
        if (this.timer != null) {
          clearTimeout(this.timer);
          this.timer = null;
          this.connect();
        }
      };
      window.addEventListener('online', this.online);
    }

    setStatus(st) {
      this.status = st;
      this.onStatus(st);
    }

    async connect() {
      if (this.closed || this.ended) return;
      this.setStatus(this.connects ? 'reconnecting' : 'connecting');
      let ticket;
      try {
        ticket = await api('/v1/stream-tickets', { method: 'POST' });
      } catch (e) {
        if (e.status === 401) {
          tokenWaiters.push(() => this.connect());
          return;
        }
        this.later();
        return;
      }
      if (this.closed || this.ended) return;
      const q = new URLSearchParams({ ticket: ticket.ticket });
      if (this.last > 0) q.set('after', String(this.last));
      const es = new EventSource(`/v1/test-runs/${encodeURIComponent(this.runId)}/events?${q}`);
      this.es = es;
      this.connects += 1;
      es.onopen = () => {
        if (this.es !== es) return;
        this.retries = 0;
        this.setStatus('live');
      };
      const receive = (m) => {
        if (this.es === es) this.receive(m);
      };
      EVENT_TYPES.forEach((t) => es.addEventListener(t, receive));
      es.onerror = () => {
        if (this.es !== es) return;
        es.close();
        this.es = null;
        this.later();
      };
    }

    receive(m) {
      let ev;
      try {
        ev = JSON.parse(m.data);
      } catch (_) {
        return;
      }
      const seq = Number(ev && ev.seq);
      if (!Number.isSafeInteger(seq) || seq <= this.last) {
        this.duplicates += 1;
        return;
      }
      this.last = seq;
      this.onEvent(ev);
      if (ev.type === 'run.finished') {
        this.ended = true;
        this.stop();
        this.setStatus('ended');
      }
    }

    later() {
      if (this.closed || this.ended) return;
      this.setStatus('reconnecting');
      const delay = Math.min(RECONNECT_MAX_MS, 250 * 2 ** Math.min(this.retries, 5));
      this.retries += 1;
      this.timer = setTimeout(() => {
        this.timer = null;
        this.connect();
      }, delay);
    }

    /** What a dropped connection does (the page's hook for tests and for a stuck proxy). */
    drop() {
      if (!this.es) return false;
      this.es.close();
      this.es = null;
      this.later();
      return true;
    }

    stop() {
      if (this.es) this.es.close();
      this.es = null;
      clearTimeout(this.timer);
      this.timer = null;
    }

    close() {
      this.closed = true;
      this.stop();
      window.removeEventListener('online', this.online);
    }
  }

  /** The stream of the run page shown, for tests and diagnostics: `window.toronDashboard.stream()`. */
  let currentStream = null;

  function eventSummary(ev) {
    const d = ev.data || {};
    const bits = [];
    switch (ev.type) {
      case 'run.scheduled':
        bits.push(d.profile ? `profile ${d.profile}` : '', d.suites ? `suites ${d.suites.join(', ')}` : '');
        break;
      case 'run.started':
        bits.push(`${d.cases} case${d.cases === 1 ? '' : 's'}`);
        break;
      case 'run.waiting':
        bits.push(d.reason || '');
        break;
      case 'case.started':
        bits.push(d.case, d.kind ? `(${d.kind})` : '');
        break;
      case 'case.attempt':
        bits.push(d.case, `attempt ${d.attempt}`, d.outcome, d.message ? `— ${d.message}` : '');
        break;
      case 'case.finished':
        bits.push(d.case, d.outcome, d.duration != null ? `in ${fmtDuration(d.duration)}` : '');
        break;
      case 'gate.evaluated':
        bits.push(d.verdict || '');
        break;
      case 'incident.opened':
      case 'incident.joined':
        bits.push(d.id || d.incident || '');
        break;
      case 'run.finished':
        bits.push(d.state || '', d.verdict ? `(${d.verdict})` : '', d.error ? `— ${d.error}` : '');
        break;
      default:
        break;
    }
    return bits.filter(Boolean).join(' ');
  }

  async function viewRun(v, id) {
    const title = heading(v, `Run ${id}`, id);
    const stateEl = h('span', { testid: 'run-state-box' });
    const verdictEl = h('span', { testid: 'run-verdict-box' });
    const meta = h('dl', { class: 'meta', testid: 'run-meta' });
    const progress = h('progress', { max: 1, value: 0, testid: 'run-progress-bar', 'aria-labelledby': 'progress-label' });
    const progressText = h('span', { id: 'progress-label', testid: 'run-progress' }, '');
    const warning = h('p', { class: 'warning', testid: 'run-warning', hidden: true });
    const actions = h('div', { class: 'actions', testid: 'run-actions' });
    const streamStatus = h('span', { class: 'stream-status', testid: 'stream-status', 'aria-live': 'polite' }, 'connecting');
    const events = h('ol', { class: 'events', testid: 'events' });
    const report = h('section', { 'aria-labelledby': 'report-title', testid: 'report-section' });
    add(v.root, h('p', { class: 'crumbs' }, link('#/runs', '← Runs')), title,
      h('div', { class: 'status-line' }, stateEl, verdictEl, h('span', { class: 'progress' }, progress, progressText)),
      warning, actions, meta,
      h('section', { class: 'card', 'aria-labelledby': 'events-title' },
        h('div', { class: 'bar' }, h('h2', { id: 'events-title' }, 'Events'), streamStatus),
        // A scrolling region: focusable, so a keyboard can scroll it.
        h('div', { class: 'events-box', tabindex: '0', role: 'region', 'aria-labelledby': 'events-title' }, events)),
      report);

    const withIncident = async (r) => {
      if (!r.incident && r.verdict === 'NO-GO') {
        const byRun = await incidentsByRun().catch(() => new Map());
        if (byRun.has(r.id)) r.incident = byRun.get(r.id);
      }
      return r;
    };
    let run = await withIncident(await api(`/v1/test-runs/${encodeURIComponent(id)}`));
    if (!v.alive) return;
    let done = 0;
    let total = null;
    let reportShown = false;

    const show = () => {
      replace(stateEl, stateBadge(run.state, 'run-state'));
      replace(verdictEl, verdictBadge(run.verdict, 'run-verdict'));
      const d = Math.max(done, run.progress ? run.progress.done : 0);
      const t = total != null ? total : run.progress ? run.progress.total : null;
      progress.max = t || 1;
      progress.value = t ? Math.min(d, t) : 0;
      progressText.textContent = `${d} / ${t == null ? '?' : t} cases${isLive(run.state) ? '' : ' — ' + run.state}`;
      warning.hidden = !(run.progress && run.progress.warning);
      warning.textContent = run.progress && run.progress.warning ? `Still scheduled: ${run.progress.warning}` : '';
      replace(meta,
        metaItem('Profile', run.profile || 'none (suites)'),
        metaItem('Suites', (run.suites || []).join(', ') || 'every suite'),
        metaItem('Seed', run.seed == null ? 'each case\'s own' : String(run.seed)),
        metaItem('Started', fmtTime(run.started)),
        metaItem('Started by', run.started_by || '—'),
        metaItem('Duration', isLive(run.state) ? 'running' : fmtDuration(run.duration)),
        run.error ? metaItem('Error', run.error) : null,
        run.incident ? metaItem('Incident', link(incidentHref(run.incident.id), `${run.incident.id} (${run.incident.severity})`,
          { testid: 'run-incident' })) : null);
      renderActions();
    };

    const cancelBtn = h('button', { type: 'button', class: 'danger', testid: 'cancel-run' }, 'Cancel the run');
    cancelBtn.addEventListener('click', async () => {
      cancelBtn.disabled = true;
      try {
        run = await withIncident(await api(`/v1/test-runs/${encodeURIComponent(id)}/cancel`, { method: 'POST' }));
        if (v.alive) show();
      } catch (e) {
        if (e.status !== 401) notice(e.message);
        cancelBtn.disabled = false;
      }
    });
    const renderActions = () => {
      replace(actions, isLive(run.state) ? cancelBtn : null);
    };

    let reportLoading = false;
    let reportTries = 0;
    const refresh = async () => {
      run = await withIncident(await api(`/v1/test-runs/${encodeURIComponent(id)}`));
      if (!v.alive) return;
      show();
      if (isLive(run.state)) return;
      // A run that ended without `run.finished` (its process died) has a stream that ends at once: stop
      // reconnecting to it.
      if (!stream.ended && stream.retries >= 3) {
        stream.close();
        stream.setStatus('ended');
      }
      if (!reportShown && !reportLoading && reportTries < REPORT_TRIES) {
        reportLoading = true;
        reportTries += 1;
        try {
          reportShown = await renderReport(v, report, run);
        } finally {
          reportLoading = false;
        }
        if (!reportShown && reportTries === REPORT_TRIES && v.alive) {
          add(report, h('p', { class: 'muted', testid: 'report-missing' }, `Run ${id} has no report (it ended ${run.state}${run.error ? `: ${run.error}` : ''}).`));
        }
      }
    };

    const onEvent = (ev) => {
      const d = ev.data || {};
      if (ev.type === 'run.started') {
        total = typeof d.cases === 'number' ? d.cases : total;
        if (run.state === 'scheduled') run.state = 'running';
      } else if (ev.type === 'case.finished') {
        done += 1;
      } else if (ev.type === 'run.waiting' && run.progress) {
        run.progress.warning = d.reason;
      }
      const li = h('li', { testid: 'event', dataset: { seq: String(ev.seq), type: ev.type }, class: `ev ev-${ev.type.replace('.', '-')}` },
        h('span', { class: 'seq' }, `#${ev.seq}`),
        h('time', { datetime: ev.time }, fmtTime(ev.time).replace(/^\S+ /, '')),
        h('span', { class: 'type' }, ev.type),
        h('span', { class: 'what' }, eventSummary(ev)));
      const atBottom = events.parentNode.scrollTop + events.parentNode.clientHeight >= events.parentNode.scrollHeight - 8;
      events.append(li);
      if (atBottom) events.parentNode.scrollTop = events.parentNode.scrollHeight;
      show();
      if (ev.type === 'run.finished') refresh().catch((e) => notice(e.message));
    };
    const stream = new RunStream(id, onEvent, (st) => {
      streamStatus.textContent = { live: 'live', connecting: 'connecting…', reconnecting: 'reconnecting…', ended: 'ended' }[st] || st;
      streamStatus.dataset.state = st;
    });
    currentStream = stream;
    v.onDispose(() => {
      stream.close();
      if (currentStream === stream) currentStream = null;
    });
    show();
    stream.connect();
    // The view polls too: state and progress stay right if the stream is reconnecting.
    v.every(POLL_RUN_MS, async () => {
      const settled = reportShown || reportTries >= REPORT_TRIES;
      if (settled && !isLive(run.state) && (stream.ended || stream.closed)) return;
      await refresh();
    });
  }

  function metaItem(label, value) {
    return [h('dt', null, label), h('dd', null, value)];
  }

  // ---------------------------------------------------------------------------------------------------------
  // The report of an ended run.

  const GATE_ORDER = { failed: 0, not_evaluated: 2, passed: 3 };

  function gateRank(g) {
    if (g.status === 'failed') return g.severity === 'block' ? 0 : 1;
    return GATE_ORDER[g.status] != null ? GATE_ORDER[g.status] : 2;
  }

  function gateStatusText(g) {
    if (g.status === 'failed') return g.severity === 'block' ? 'failed' : 'failed (warning)';
    if (g.status === 'not_evaluated') return 'not evaluated';
    return g.status;
  }

  async function renderReport(v, box, run) {
    clear(box);
    add(box, h('h2', { id: 'report-title' }, 'Report'));
    let rep;
    try {
      rep = await api(`/v1/reports/${encodeURIComponent(run.id)}`);
    } catch (e) {
      // Not written yet (the run has just ended): the next poll tries again.
      if (v.alive && e.status !== 404) add(box, errorBox(e, 'report-error'));
      return false;
    }
    if (!v.alive) return false;
    const gates = (rep.gates || []).slice().sort((a, b) => gateRank(a) - gateRank(b));
    const blocking = gates.filter((g) => g.status === 'failed' && g.severity === 'block');
    // The run's verdict (`none` for a run that errored after its gates), not only the gates'.
    const verdict = run.verdict && run.verdict !== 'none' ? run.verdict : rep.verdict && run.state !== 'errored' ? rep.verdict : 'none';
    add(box, h('div', { class: `verdict-banner verdict-${String(verdict).toLowerCase()}`, testid: 'report-verdict' },
      h('strong', null, verdict),
      ' ',
      verdict === 'GO' ? 'No blocking rule failed.'
        : blocking.length ? `${blocking.length} blocking rule${blocking.length === 1 ? '' : 's'} failed.`
          : `The run ended ${run.state}${run.error ? `: ${run.error}` : '.'}`));

    // Actions: the incident, the files, the HTML report.
    const actions = h('div', { class: 'actions', testid: 'report-actions' });
    if (run.incident) {
      add(actions, link(incidentHref(run.incident.id), `Incident ${run.incident.id}`, { class: 'button', testid: 'incident-link' }));
    } else if (verdict === 'NO-GO') {
      const open = h('button', { type: 'button', class: 'danger', testid: 'open-incident' }, 'Open an incident');
      open.addEventListener('click', async () => {
        open.disabled = true;
        try {
          const r = await api('/v1/warroom/incidents', { method: 'POST', body: { run_id: run.id } });
          location.hash = incidentHref(r.incident.id);
        } catch (e) {
          if (e.status !== 401) notice(e.message);
          open.disabled = false;
        }
      });
      add(actions, open);
    }
    for (const f of ['report.json', 'verdict.json', 'junit.xml', 'determinism.json']) {
      const b = h('button', { type: 'button', class: 'secondary', testid: `download-${f}` }, f);
      b.addEventListener('click', () => download(run.id, f).catch((e) => notice(e.message)));
      add(actions, b);
    }
    const htmlBox = h('div', { testid: 'report-html' });
    const htmlBtn = h('button', { type: 'button', class: 'secondary', testid: 'show-html-report', 'aria-expanded': 'false' }, 'Show the HTML report');
    htmlBtn.addEventListener('click', async () => {
      if (htmlBox.firstChild) {
        clear(htmlBox);
        htmlBtn.setAttribute('aria-expanded', 'false');
        htmlBtn.textContent = 'Show the HTML report';
        return;
      }
      try {
        const html = await api(`/v1/reports/${encodeURIComponent(run.id)}/index.html`, { as: 'text', accept: 'text/html' });
        add(htmlBox, sandboxed(html, `The HTML report of ${run.id}`, 'report-frame', 'diff-frame report-frame'));
        htmlBtn.setAttribute('aria-expanded', 'true');
        htmlBtn.textContent = 'Hide the HTML report';
      } catch (e) {
        if (e.status !== 401) notice(e.message);
      }
    });
    add(actions, htmlBtn);
    add(box, actions, htmlBox);

    // Gates, failing first.
    add(box, h('h3', null, 'Gates'),
      gates.length
        ? h('ol', { class: 'gates', testid: 'gates' }, gates.map((g) => h('li', {
          class: `gate gate-${g.status}${g.status === 'failed' ? ' sev-' + g.severity : ''}`,
          testid: 'gate', dataset: { status: g.status, rule: g.rule },
        },
        h('span', { class: `badge gate-badge gate-badge-${g.status}`, testid: 'gate-status' }, gateStatusText(g)),
        h('code', { class: 'rule' }, g.rule),
        g.scope ? h('span', { class: 'scope' }, ` on ${g.scope}`) : null,
        g.default ? h('span', { class: 'muted' }, ' (default rule)') : null,
        h('p', { class: 'explanation' }, g.explanation || ''))))
        : h('p', { class: 'muted' }, 'The run reached no gate.'));

    // Latency per load case.
    const latency = latencyCases(rep);
    if (latency.length) {
      add(box, h('h3', null, 'Latency'), latencyChart(latency));
    }

    // Failed cases first, with what explains them; then every case.
    const cases = rep.cases || [];
    const failed = cases.filter((c) => BAD_OUTCOMES.has(c.outcome));
    if (failed.length) {
      add(box, h('h3', null, `Failed cases (${failed.length})`),
        h('div', { class: 'failed-cases', testid: 'failed-cases' }, failed.map((c) => failedCase(run, c))));
    }
    add(box, h('h3', null, `Cases (${cases.length})`),
      h('div', { class: 'scroll' }, h('table', { class: 'cases', testid: 'cases' },
        h('thead', null, h('tr', null, ['Case', 'Kind', 'Outcome', 'Attempts', 'Duration', 'Message', 'Triage']
          .map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', null, cases.map((c) => {
          const id = `${c.suite}/${c.name}`;
          const last = (c.attempts || [])[c.attempts.length - 1] || {};
          const t = (run.triage || {})[id];
          return h('tr', { testid: 'case-row', dataset: { case: id, outcome: c.outcome } },
            h('th', { scope: 'row' }, id),
            h('td', null, c.kind),
            h('td', null, outcomeBadge(c.outcome, 'case-outcome')),
            h('td', { class: 'num' }, String((c.attempts || []).length)),
            h('td', { class: 'num' }, fmtDuration(c.duration)),
            h('td', { class: 'message' }, c.error || last.message || ''),
            h('td', null, t ? triageBadge(t.label) : ''));
        })))));
    if ((rep.unused_goldens || []).length) {
      add(box, h('p', { class: 'muted' }, `Goldens no case compared: ${rep.unused_goldens.join(', ')}`));
    }
    return true;
  }

  function triageBadge(label) {
    const name = (TRIAGE_LABELS.find((l) => l[0] === label) || [label, label])[1];
    return h('span', { class: `badge triage-${label}`, testid: 'triage-badge' }, name);
  }

  async function download(id, file) {
    const text = await api(`/v1/reports/${encodeURIComponent(id)}/${file}`, { as: 'text', accept: '*/*' });
    const type = file.endsWith('.xml') ? 'application/xml' : 'application/json';
    const url = URL.createObjectURL(new Blob([text], { type }));
    const a = h('a', { href: url, download: `${id}-${file}`, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  /** Server HTML in a sandboxed frame: no script, an opaque origin, nothing reaching this page. */
  function sandboxed(html, title, testid, cls) {
    const f = h('iframe', { sandbox: '', title, testid, class: cls || 'diff-frame', referrerpolicy: 'no-referrer' });
    f.srcdoc = html;
    if (!cls) {
      // The frame's document is of another (opaque) origin and cannot be measured: size it by its lines.
      const lines = (html.match(/<li\b/g) || []).length;
      f.style.height = `${Math.min(480, 56 + 24 * lines)}px`;
    }
    return f;
  }

  function failedCase(run, c) {
    const id = `${c.suite}/${c.name}`;
    const attempts = c.attempts || [];
    const last = attempts[attempts.length - 1] || {};
    const card = h('article', { class: 'case-card', testid: 'failed-case', dataset: { case: id } },
      h('header', null, h('h4', null, id), ' ', outcomeBadge(c.outcome, 'case-outcome'),
        h('span', { class: 'muted' }, ` ${c.kind} · ${attempts.length} attempt${attempts.length === 1 ? '' : 's'} · ${fmtDuration(c.duration)}`)),
      c.error || last.message ? h('p', { class: 'message', testid: 'case-message' }, c.error || last.message) : null);

    // A golden that did not match: its diff, as the server rendered it, sandboxed.
    const golden = attempts.map((a) => a.golden).filter(Boolean).pop();
    if (golden && golden.status !== 'passed') {
      add(card, h('div', { class: 'golden', testid: 'golden' },
        h('p', null, h('strong', null, `Golden ${golden.status}`), golden.summary ? `: ${golden.summary}` : ''),
        golden.html ? sandboxed(golden.html, `The golden diff of ${id}`, 'golden-diff') : null));
    }

    // A determinism failure: where the repeats drifted.
    const det = attempts.map((a) => a.determinism).filter(Boolean).pop();
    if (det && !det.deterministic) add(card, driftBox(det));

    if (last.stderr || last.stdout) {
      add(card, h('details', { class: 'output' }, h('summary', null, 'Output of the last attempt'),
        last.exit_code != null ? h('p', null, `Exit code ${last.exit_code}`) : null,
        last.stdout ? [h('h5', null, 'stdout'), h('pre', null, last.stdout)] : null,
        last.stderr ? [h('h5', null, 'stderr'), h('pre', { testid: 'case-stderr' }, last.stderr)] : null));
    }
    add(card, triageForm(run, id));
    return card;
  }

  function json(v) {
    if (v === undefined) return 'absent';
    try {
      return JSON.stringify(v, null, 2);
    } catch (_) {
      return String(v);
    }
  }

  function driftBox(det) {
    const box = h('div', { class: 'drift', testid: 'drift' },
      h('p', null, h('strong', null, 'Not deterministic'),
        `: ${det.runs} run${det.runs === 1 ? '' : 's'}, ${det.repeats} repeat${det.repeats === 1 ? '' : 's'}` +
        (det.threads && det.threads.length ? `, threads ${det.threads.join(', ')}` : '') +
        (det.processes > 1 ? `, ${det.processes} processes` : '')));
    const seeds = Object.entries(det.digests || {}).filter(([, ds]) => Object.keys(ds).length > 1);
    if (seeds.length) {
      add(box, h('p', null, `Seeds with more than one digest: ${seeds.map(([seed]) => seed).join(', ')}`));
    }
    if (det.drift) {
      const d = det.drift;
      add(box, h('div', { testid: 'drift-event' },
        h('p', null, `First divergent event: #${d.index}` + (d.time != null ? ` at ${(d.time / 1e6).toFixed(3)} ms of virtual time` : '') +
          (d.seed != null ? ` (seed ${d.seed})` : '')),
        h('div', { class: 'sides' },
          h('figure', null, h('figcaption', null, 'First trace'), h('pre', null, d.a == null ? '(the trace ended here)' : json(d.a))),
          h('figure', null, h('figcaption', null, 'Second trace'), h('pre', null, d.b == null ? '(the trace ended here)' : json(d.b))))));
    } else if (!(det.artifact_drift || []).length) {
      add(box, h('p', { class: 'muted' }, 'The traced re-runs agreed: the drift did not reproduce.'));
    }
    if ((det.artifact_drift || []).length) {
      add(box, h('table', { class: 'artifact-drift', testid: 'artifact-drift' },
        h('caption', null, 'Artifacts that differ between repeats'),
        h('thead', null, h('tr', null, ['Artifact', 'Path', 'First', 'Other'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', null, det.artifact_drift.map((d) => h('tr', null,
          h('td', null, d.artifact), h('td', null, h('code', null, d.path)),
          h('td', null, h('code', null, json(d.a))), h('td', null, h('code', null, json(d.b))))))));
    }
    return box;
  }

  function triageForm(run, caseId) {
    const current = (run.triage || {})[caseId];
    const safe = caseId.replace(/[^A-Za-z0-9_-]/g, '_');
    const sel = h('select', { id: `triage-${safe}`, testid: 'triage-label' },
      h('option', { value: '' }, 'not triaged'),
      TRIAGE_LABELS.map(([v, name]) => h('option', { value: v, selected: !!current && current.label === v }, name)));
    const note = h('input', { id: `triage-note-${safe}`, testid: 'triage-note', value: current && current.note ? current.note : '',
      placeholder: 'why (optional)', autocomplete: 'off' });
    const save = h('button', { type: 'submit', testid: 'triage-save' }, 'Save');
    const status = h('p', { class: 'muted', testid: 'triage-current', 'aria-live': 'polite' },
      current ? triageText(current) : 'Not triaged yet.');
    const form = h('form', { class: 'triage', testid: 'triage' },
      h('label', { for: `triage-${safe}` }, 'Triage '), sel, ' ',
      h('label', { for: `triage-note-${safe}`, class: 'sr-only' }, 'Note'), note, ' ', save, status);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      save.disabled = true;
      try {
        const r = await api(`/v1/test-runs/${encodeURIComponent(run.id)}/triage`, {
          method: 'PUT', body: { case: caseId, label: sel.value || null, note: note.value.trim() || null },
        });
        run.triage = r.triage;
        const t = (r.triage || {})[caseId];
        status.textContent = t ? triageText(t) : 'Not triaged yet.';
        // The cases table shows the label too.
        const row = document.querySelector(`tr[data-testid="case-row"][data-case="${CSS.escape(caseId)}"] td:last-child`);
        if (row) replace(row, t ? triageBadge(t.label) : '');
      } catch (x) {
        if (x.status !== 401) notice(x.message);
      } finally {
        save.disabled = false;
      }
    });
    return form;
  }

  function triageText(t) {
    const name = (TRIAGE_LABELS.find((l) => l[0] === t.label) || [t.label, t.label])[1];
    return `${name}${t.note ? ` — ${t.note}` : ''} (by ${t.by}, ${fmtTime(t.at)})`;
  }

  /** Load cases with latency KPIs: `[{case, values: {p50, p90, p99, p999, max}}]`. */
  function latencyCases(rep) {
    const out = [];
    const cases = (rep.kpis && rep.kpis.cases) || {};
    for (const [id, k] of Object.entries(cases)) {
      const values = {};
      for (const [metric, x] of Object.entries(k)) {
        const m = /^latency\.(p\d+|max|mean|min)$/.exec(metric);
        if (m && Number.isFinite(x)) values[m[1]] = x;
      }
      if (Object.keys(values).length) out.push({ case: id, values });
    }
    return out;
  }

  const PERCENTILES = ['p50', 'p90', 'p99', 'p999', 'max'];

  function pctLabel(p) {
    if (p === 'max') return 'max';
    if (p === 'p999') return 'p99.9';
    return p;
  }

  /** Grouped bars: per load case, its latency percentiles in ms. */
  function latencyChart(cases) {
    const keys = PERCENTILES.filter((p) => cases.some((c) => c.values[p] != null));
    const maxV = Math.max(...cases.flatMap((c) => keys.map((k) => c.values[k] || 0)), 1e-9);
    const scale = niceMax(maxV * 1000);
    const barW = 26;
    const gap = 6;
    const groupW = keys.length * (barW + gap) + 30;
    const left = 56;
    const top = 16;
    const plotH = 180;
    const width = left + cases.length * groupW + 10;
    const height = top + plotH + 54;
    const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', class: 'chart',
      testid: 'latency-chart', 'aria-labelledby': 'latency-title latency-desc' },
    s('title', { id: 'latency-title', text: 'Latency percentiles per load case' }),
    s('desc', { id: 'latency-desc', text: cases.map((c) => `${c.case}: ${keys.map((k) => `${pctLabel(k)} ${fmtMs(c.values[k])}`).join(', ')}`).join('; ') }));
    axisY(svg, left, top, plotH, width - 10, scale, (x) => `${fmtNum(x)} ms`);
    cases.forEach((c, gi) => {
      const gx = left + 15 + gi * groupW;
      const g = s('g', { testid: 'latency-case', 'data-case': c.case });
      keys.forEach((k, i) => {
        const ms = (c.values[k] || 0) * 1000;
        const bh = (ms / scale) * plotH;
        const x = gx + i * (barW + gap);
        g.append(s('rect', { x, y: top + plotH - bh, width: barW, height: Math.max(bh, 0.5), class: `bar bar-${k}` },
          s('title', { text: `${c.case} ${pctLabel(k)}: ${fmtMs(c.values[k])}` })));
        g.append(s('text', { x: x + barW / 2, y: top + plotH + 14, class: 'tick', 'text-anchor': 'middle', text: pctLabel(k) }));
        g.append(s('text', { x: x + barW / 2, y: top + plotH - bh - 3, class: 'value', 'text-anchor': 'middle', text: fmtNum(ms) }));
      });
      g.append(s('text', { x: gx + (keys.length * (barW + gap)) / 2, y: top + plotH + 34, class: 'label', 'text-anchor': 'middle', text: c.case }));
      svg.append(g);
    });
    return h('figure', { class: 'chart-box' }, svg,
      h('figcaption', { class: 'muted' }, 'Latency of each load case\'s requests (worst seed), in milliseconds.'));
  }

  function fmtNum(x) {
    if (!Number.isFinite(x)) return '—';
    if (x === 0) return '0';
    if (Math.abs(x) >= 100) return x.toFixed(0);
    if (Math.abs(x) >= 10) return x.toFixed(1);
    if (Math.abs(x) >= 1) return x.toFixed(2);
    return x.toPrecision(2);
  }

  function niceMax(x) {
    if (!(x > 0)) return 1;
    const p = 10 ** Math.floor(Math.log10(x));
    for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= x) return m * p;
    return 10 * p;
  }

  function axisY(svg, left, top, plotH, right, max, label) {
    for (let i = 0; i <= 4; i++) {
      const y = top + plotH - (i / 4) * plotH;
      svg.append(s('line', { x1: left, x2: right, y1: y, y2: y, class: i ? 'grid' : 'axis' }));
      svg.append(s('text', { x: left - 6, y: y + 4, class: 'tick', 'text-anchor': 'end', text: label((max * i) / 4) }));
    }
  }

  /** A line over the runs (oldest first): points with a value, gaps where a run has none. */
  function trendChart(opts) {
    const { points, title, testid, max, fmt, axisFmt } = opts;
    const n = points.length;
    const left = 64;
    const top = 12;
    const plotH = 150;
    const step = n > 1 ? Math.max(18, Math.min(60, 640 / (n - 1))) : 40;
    const width = left + Math.max(1, n - 1) * step + 56;
    const height = top + plotH + 36;
    const values = points.map((p) => p.value).filter((x) => Number.isFinite(x));
    const top_ = max != null ? max : niceMax(Math.max(...values, 1e-9));
    const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', class: 'chart trend', testid,
      'aria-label': `${title}: ${points.map((p) => `${shortRun(p.id)} ${fmt(p.value)}`).join(', ')}` },
    s('title', { text: title }));
    axisY(svg, left, top, plotH, width - 10, top_, axisFmt || fmt);
    const xy = (i, v) => [left + 10 + i * step, top + plotH - (Math.min(v, top_) / top_) * plotH];
    let d = '';
    let pen = false;
    points.forEach((p, i) => {
      if (!Number.isFinite(p.value)) {
        pen = false;
        return;
      }
      const [x, y] = xy(i, p.value);
      d += `${pen ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)} `;
      pen = true;
    });
    if (d) svg.append(s('path', { d, class: 'line' }));
    points.forEach((p, i) => {
      const [x] = xy(i, 0);
      if (Number.isFinite(p.value)) {
        const [, y] = xy(i, p.value);
        svg.append(s('circle', { cx: x, cy: y, r: 4, class: `dot ${p.cls || ''}`, testid: 'trend-point', 'data-run': p.id, 'data-value': String(p.value) },
          s('title', { text: `${p.id}: ${fmt(p.value)}` })));
      }
      if (n <= 12 || i % Math.ceil(n / 12) === 0 || i === n - 1) {
        svg.append(s('text', { x, y: top + plotH + 16, class: 'tick', 'text-anchor': 'middle', text: shortRun(p.id).slice(6) }));
      }
    });
    return h('figure', { class: 'chart-box' }, h('figcaption', null, title), svg);
  }

  // ---------------------------------------------------------------------------------------------------------
  // #/incidents and #/incidents/<id>.

  async function viewIncidents(v) {
    const statusSel = h('select', { id: 'incident-filter', testid: 'incident-filter' },
      ['', 'open', 'mitigated', 'resolved', 'reopened'].map((x) => h('option', { value: x }, x || 'any')));
    const body = h('div', { testid: 'incidents' });
    add(v.root, heading(v, 'Incidents'),
      h('p', { class: 'muted' }, 'Open one from a NO-GO run\'s page. Runs with the same failing rules join the open incident.'),
      h('div', { class: 'filters' }, h('label', { for: 'incident-filter' }, 'Status '), statusSel), body);
    const load = async () => {
      const q = statusSel.value ? `?status=${encodeURIComponent(statusSel.value)}` : '';
      const list = await api(`/v1/warroom/incidents${q}`);
      if (!v.alive) return;
      if (!list.length) {
        replace(body, h('p', { class: 'muted', testid: 'incidents-empty' }, 'No incident.'));
        return;
      }
      replace(body, h('div', { class: 'scroll' }, h('table', { testid: 'incidents-table' },
        h('thead', null, h('tr', null, ['Incident', 'Title', 'Severity', 'Status', 'Run', 'Opened', 'Updated']
          .map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', null, list.map((i) => h('tr', { testid: 'incident-row', dataset: { incident: i.id, status: i.status } },
          h('th', { scope: 'row' }, link(incidentHref(i.id), i.id, { testid: 'incident-link' })),
          h('td', null, i.title),
          h('td', null, badge('sev', i.severity)),
          h('td', null, badge('status', i.status, 'incident-status')),
          h('td', null, i.run_id ? link(runHref(i.run_id), i.run_id) : '—'),
          h('td', null, fmtTime(i.opened_at)),
          h('td', null, fmtTime(i.updated_at))))))));
    };
    statusSel.addEventListener('change', () => load().catch((e) => notice(e.message)));
    v.every(POLL_INCIDENT_MS, load);
  }

  async function viewIncident(v, id) {
    const box = h('div', { testid: 'incident' });
    add(v.root, h('p', { class: 'crumbs' }, link('#/incidents', '← Incidents')), heading(v, id), box);
    const render = (i) => {
      const next = STATUS_NEXT[i.status] || [];
      const statusSel = h('select', { id: 'incident-next', testid: 'incident-status-select' },
        next.map((st) => h('option', { value: st }, st)));
      const note = h('input', { id: 'incident-status-note', testid: 'incident-status-note', placeholder: 'why (optional)', autocomplete: 'off' });
      const change = h('button', { type: 'submit', testid: 'incident-status-submit' }, 'Change the status');
      const statusForm = h('form', { class: 'inline', testid: 'incident-status-form' },
        h('label', { for: 'incident-next' }, 'Move to '), statusSel, ' ',
        h('label', { for: 'incident-status-note', class: 'sr-only' }, 'Note'), note, ' ', change);
      statusForm.addEventListener('submit', async (e) => {
        e.preventDefault();
        change.disabled = true;
        try {
          const r = await api(`/v1/warroom/incidents/${encodeURIComponent(id)}/status`, {
            method: 'POST', body: { status: statusSel.value, note: note.value.trim() || null },
          });
          if (v.alive) render(r);
        } catch (x) {
          if (x.status !== 401) notice(x.message);
          change.disabled = false;
        }
      });
      const noteText = h('textarea', { id: 'incident-note-text', testid: 'incident-note-text', rows: 2 });
      const noteBtn = h('button', { type: 'submit', testid: 'incident-note-submit' }, 'Add the note');
      const noteForm = h('form', { testid: 'incident-note-form' },
        h('label', { for: 'incident-note-text' }, 'Add a note'), noteText, h('div', { class: 'actions' }, noteBtn));
      noteForm.addEventListener('submit', async (e) => {
        e.preventDefault();
        if (!noteText.value.trim()) return;
        noteBtn.disabled = true;
        try {
          const r = await api(`/v1/warroom/incidents/${encodeURIComponent(id)}/notes`, { method: 'POST', body: { text: noteText.value } });
          if (v.alive) render(r);
        } catch (x) {
          if (x.status !== 401) notice(x.message);
          noteBtn.disabled = false;
        }
      });
      const failedCases = (i.cases || []).filter((c) => BAD_OUTCOMES.has(c.outcome));
      replace(box,
        h('p', { class: 'lead', testid: 'incident-title' }, i.title),
        h('div', { class: 'status-line' }, badge('status', i.status, 'incident-status'), badge('sev', i.severity, 'incident-severity'),
          verdictBadge(i.verdict)),
        h('dl', { class: 'meta' },
          metaItem('Run', i.run_id ? link(runHref(i.run_id), i.run_id, { testid: 'incident-run' }) : '—'),
          metaItem('Profile', i.profile || '—'),
          metaItem('Opened', fmtTime(i.opened_at)),
          metaItem('Updated', fmtTime(i.updated_at)),
          i.owner ? metaItem('Owner', i.owner) : null,
          (i.labels || []).length ? metaItem('Labels', i.labels.join(', ')) : null,
          (i.runs || []).length > 1 ? metaItem('Runs', (i.runs || []).map((r, n) => [n ? ', ' : '', link(runHref(r), r)])) : null),
        next.length ? statusForm : h('p', { class: 'muted' }, 'No status change is possible from here.'),
        h('h2', null, 'Failing rules'),
        (i.rules || []).length
          ? h('ul', { class: 'gates', testid: 'incident-rules' }, i.rules.map((r) => h('li', { class: 'gate gate-failed' },
            h('code', { class: 'rule' }, r.rule), r.scope ? h('span', { class: 'scope' }, ` on ${r.scope}`) : null,
            h('span', { class: 'muted' }, ` (${r.severity})`), h('p', { class: 'explanation' }, r.sentence || ''))))
          : h('p', { class: 'muted' }, 'No failing rule was recorded.'),
        failedCases.length ? [h('h2', null, 'Failed cases'), h('ul', { class: 'plain', testid: 'incident-cases' }, failedCases.map((c) => h('li', null,
          h('strong', null, c.case), ' ', outcomeBadge(c.outcome), c.message ? ` — ${c.message}` : '',
          c.golden && c.golden.summary ? h('span', { class: 'muted' }, ` (golden: ${c.golden.summary})`) : null,
          (c.artifact_drift || []).length ? h('span', { class: 'muted' }, ` (drift at ${c.artifact_drift[0].artifact} ${c.artifact_drift[0].path})`) : null)))] : null,
        h('h2', null, 'Timeline'),
        h('ol', { class: 'timeline', testid: 'timeline' }, (i.timeline || []).map((t) => h('li', { testid: 'timeline-entry', dataset: { what: t.what || '' } },
          h('time', { datetime: t.when }, fmtTime(t.when)), ' ', h('strong', null, t.who || '—'), ' ',
          h('span', { class: 'what' }, t.what || ''), t.text ? h('p', null, t.text) : null))),
        noteForm);
    };
    const i = await api(`/v1/warroom/incidents/${encodeURIComponent(id)}`);
    if (!v.alive) return;
    document.title = `${i.id} · Toron`;
    render(i);
  }

  // ---------------------------------------------------------------------------------------------------------
  // #/history: each case's outcome over the last runs, the flakiest and most failed cases, trends.

  const OUTCOME_MARK = {
    passed: '✓', flaky: '≈', failed: '✗', errored: '!', timed_out: 'T', skipped: '–', cancelled: '⊘',
  };

  async function viewHistory(v) {
    const params = new URLSearchParams(location.hash.split('?')[1] || '');
    const profileSel = h('select', { id: 'history-profile', testid: 'history-profile' }, h('option', { value: '' }, 'every profile'));
    const limitSel = h('select', { id: 'history-limit', testid: 'history-limit' },
      [10, 20, 50, 100].map((n) => h('option', { value: String(n), selected: n === 20 }, String(n))));
    const body = h('div', { testid: 'history' });
    add(v.root, heading(v, 'History'),
      h('div', { class: 'filters' }, h('label', { for: 'history-profile' }, 'Profile '), profileSel,
        h('label', { for: 'history-limit' }, ' Last runs '), limitSel),
      body);
    try {
      const manifests = await api('/v1/manifests');
      const names = [...new Set(manifests.flatMap((m) => Object.keys(m.profiles || {})))];
      add(profileSel, names.map((p) => h('option', { value: p }, p)));
      if (params.get('profile')) profileSel.value = params.get('profile');
    } catch (e) {
      if (e.status === 401) return;
    }
    let kpi = null;
    const load = async () => {
      const q = new URLSearchParams({ limit: limitSel.value });
      if (profileSel.value) q.set('profile', profileSel.value);
      const hist = await api(`/v1/history?${q}`);
      if (!v.alive) return;
      renderHistory(body, hist, kpi, (k) => {
        kpi = k;
      });
    };
    profileSel.addEventListener('change', () => load().catch((e) => notice(e.message)));
    limitSel.addEventListener('change', () => load().catch((e) => notice(e.message)));
    await load();
  }

  function renderHistory(body, hist, kpi, onKpi) {
    const runs = hist.runs || [];
    if (!runs.length) {
      replace(body, h('p', { class: 'muted', testid: 'history-empty' }, 'No finished run yet.'));
      return;
    }
    const metrics = [...new Set(runs.flatMap((r) => Object.keys(r.kpis || {})))].sort();
    // Pass rate and duration have charts of their own: the KPI chart starts on another one.
    if (!kpi || !metrics.includes(kpi)) {
      kpi = ['latency.p99', 'determinism', 'coverage', 'throughput', 'failed'].find((m) => metrics.includes(m)) || metrics[0];
      onKpi(kpi);
    }
    const kpiSel = h('select', { id: 'history-kpi', testid: 'history-kpi' },
      metrics.map((m) => h('option', { value: m, selected: m === kpi }, kpiLabel(m))));
    const kpiChart = h('div', { testid: 'history-kpi-chart' });
    const drawKpi = () => replace(kpiChart, trendChart({
      points: runs.map((r) => ({ id: r.id, value: (r.kpis || {})[kpiSel.value] })),
      title: `${kpiLabel(kpiSel.value)} per run`, testid: 'kpi-trend', fmt: (x) => fmtKpi(kpiSel.value, x),
      max: RATE_METRICS.has(kpiSel.value) ? 1 : null,
    }));
    kpiSel.addEventListener('change', () => {
      onKpi(kpiSel.value);
      drawKpi();
    });
    drawKpi();

    const matrix = h('table', { class: 'matrix', testid: 'history-matrix' },
      h('caption', null, 'Each case\'s outcome per run, oldest on the left'),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Case'),
        runs.map((r) => h('th', { scope: 'col', class: 'run-col' },
          link(runHref(r.id), shortRun(r.id), { title: `${r.id}: ${r.verdict}`, testid: 'history-run' }),
          h('br'), verdictBadge(r.verdict))),
        h('th', { scope: 'col' }, 'Pass rate'), h('th', { scope: 'col' }, 'Failed'), h('th', { scope: 'col' }, 'Flips'))),
      h('tbody', null, (hist.cases || []).map((c) => h('tr', { testid: 'history-case', dataset: { case: c.case } },
        h('th', { scope: 'row' }, c.case),
        c.outcomes.map((o, i) => {
          const t = ((runs[i] || {}).triage || {})[c.case];
          const label = o == null ? 'not run' : o;
          return h('td', {
            class: `cell outcome-${o == null ? 'absent' : o}`, testid: 'history-cell',
            dataset: { outcome: o == null ? '' : o, run: (runs[i] || {}).id || '' },
            title: `${runs[i] ? runs[i].id : ''}: ${label}${c.durations[i] != null ? ` in ${fmtDuration(c.durations[i])}` : ''}${t ? ` — triaged ${t.label}` : ''}`,
          }, h('span', { 'aria-hidden': 'true' }, o == null ? '·' : OUTCOME_MARK[o] || '?'),
          h('span', { class: 'sr-only' }, label), t ? h('span', { class: `tri tri-${t.label}`, testid: 'history-triage' }, t.label) : null);
        }),
        h('td', { class: 'num' }, fmtPercent(c.pass_rate)),
        h('td', { class: 'num' }, String(c.failed)),
        h('td', { class: 'num' }, String(c.changes))))));

    const rank = (items, testid, text) => items.length
      ? h('ol', { class: 'rank', testid }, items.map((x) => h('li', { dataset: { case: x.case } }, h('strong', null, x.case), ` ${text(x)}`)))
      : h('p', { class: 'muted', testid }, 'None.');

    replace(body,
      h('div', { class: 'charts' },
        trendChart({ points: runs.map((r) => ({ id: r.id, value: r.pass_rate, cls: r.go ? 'go' : 'nogo' })), title: 'Pass rate per run',
          testid: 'pass-rate-trend', fmt: fmtPercent, max: 1 }),
        trendChart({ points: runs.map((r) => ({ id: r.id, value: r.duration, cls: r.go ? 'go' : 'nogo' })), title: 'Duration per run',
          testid: 'duration-trend', fmt: fmtDuration, axisFmt: (x) => fmtDuration(x) })),
      h('div', { class: 'field kpi-pick' }, h('label', { for: 'history-kpi' }, 'KPI '), kpiSel),
      kpiChart,
      h('div', { class: 'two' },
        h('section', null, h('h2', null, 'Flakiest cases'),
          rank(hist.flakiest || [], 'history-flakiest', (x) => `— score ${x.score} over ${x.ran} run${x.ran === 1 ? '' : 's'}`)),
        h('section', null, h('h2', null, 'Most failed cases'),
          rank(hist.most_failed || [], 'history-most-failed', (x) => `— failed ${x.failed} of ${x.ran}`))),
      h('h2', null, `Cases over the last ${runs.length} run${runs.length === 1 ? '' : 's'}`),
      h('div', { class: 'scroll' }, matrix),
      h('p', { class: 'muted legend' }, Object.entries(OUTCOME_MARK).map(([k, m]) => `${m} ${k}`).join(' · ') + ' · · not run'));
  }

  // ---------------------------------------------------------------------------------------------------------
  // Start.

  window.toronDashboard = Object.freeze({
    /** The run page's stream: `{last, connects, duplicates, status}`, or null on other pages. */
    stream() {
      const st = currentStream;
      return st ? { last: st.last, connects: st.connects, duplicates: st.duplicates, status: st.status } : null;
    },
    /** Drop the run page's stream as a broken connection would (it then resumes from the last seq). */
    dropStream() {
      return currentStream ? currentStream.drop() : false;
    },
  });

  function start() {
    setupTokenForm();
    document.getElementById('sign-out').hidden = !token();
    window.addEventListener('hashchange', route);
    route();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();

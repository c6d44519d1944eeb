// Sluice console: login, one-time password change, dashboard (status + component health, refreshed
// every 5 s) and settings. Vanilla JS, no build step; the page's CSP forbids inline script, so all
// behaviour lives here. Data is always inserted with textContent, never as HTML.
'use strict';

(function () {
  const REFRESH_MS = 5000;
  const state = {
    user: null,          // {user, role, must_change}
    status: null,        // last /api/v1/status answer
    statusAt: 0,         // Date.now() when it arrived
    refreshTimer: null,
    tickTimer: null,
  };

  const $ = (id) => document.getElementById(id);
  const views = ['login', 'password', 'dashboard', 'settings'];

  // ---- HTTP ---------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(method, path, body) {
    const opts = { method, headers: {}, credentials: 'same-origin' };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, opts);
    } catch (e) {
      throw new ApiError(0, 'cannot reach the appliance');
    }
    let data = null;
    const text = await res.text();
    if (text) {
      try { data = JSON.parse(text); } catch (e) { data = null; }
    }
    if (!res.ok) {
      const msg = (data && data.error) || ('HTTP ' + res.status);
      const err = new ApiError(res.status, msg);
      if (res.status === 401 && path !== '/api/v1/session') {
        showLogin('Your session has ended. Please sign in again.');
      } else if (res.status === 403 && msg === 'password change required') {
        showPassword();
      }
      throw err;
    }
    return data;
  }

  // ---- views --------------------------------------------------------------------------------

  function show(view) {
    for (const v of views) $('view-' + v).hidden = v !== view;
    const inside = view === 'dashboard' || view === 'settings';
    $('nav').hidden = !inside;
    $('logout').hidden = !state.user;
    $('whoami').textContent = state.user ? state.user.user + ' (' + state.user.role + ')' : '';
    for (const v of ['dashboard', 'settings']) {
      $('nav-' + v).classList.toggle('active', v === view);
    }
    if (view !== 'dashboard') stopRefresh();
  }

  function banner(msg, kind) {
    const b = $('banner');
    b.textContent = msg || '';
    b.className = 'banner ' + (kind || 'info');
    b.hidden = !msg;
  }

  function showError(id, msg) {
    const el = $(id);
    el.textContent = msg || '';
    el.hidden = !msg;
  }

  function showLogin(msg) {
    state.user = null;
    stopRefresh();
    show('login');
    banner(msg || '', 'info');
    $('login-password').value = '';
    $('login-user').focus();
  }

  function showPassword() {
    show('password');
    banner('');
    showError('password-error', '');
    $('password-current').focus();
  }

  function route() {
    if (!state.user) return showLogin();
    if (state.user.must_change) return showPassword();
    banner('');
    if (location.hash === '#settings') return showSettings();
    return showDashboard();
  }

  // ---- login and password -------------------------------------------------------------------

  async function onLogin(ev) {
    ev.preventDefault();
    showError('login-error', '');
    $('login-submit').disabled = true;
    try {
      state.user = await api('POST', '/api/v1/session', {
        user: $('login-user').value,
        password: $('login-password').value,
      });
      $('login-password').value = '';
      route();
    } catch (e) {
      showError('login-error', e.message);
    } finally {
      $('login-submit').disabled = false;
    }
  }

  async function onPassword(ev) {
    ev.preventDefault();
    showError('password-error', '');
    const current = $('password-current').value;
    const fresh = $('password-new').value;
    if (fresh !== $('password-confirm').value) {
      showError('password-error', 'The new passwords do not match.');
      return;
    }
    $('password-submit').disabled = true;
    try {
      state.user = await api('POST', '/api/v1/session/password', { current, new: fresh });
      for (const id of ['password-current', 'password-new', 'password-confirm']) $(id).value = '';
      route();
      banner('Password changed.', 'ok');
    } catch (e) {
      if (e.status !== 401) showError('password-error', e.message);
    } finally {
      $('password-submit').disabled = false;
    }
  }

  async function onLogout() {
    try {
      await api('DELETE', '/api/v1/session');
    } catch (e) {
      // the session may already be gone; either way we are logged out
    }
    showLogin('You have been logged out.');
  }

  // ---- dashboard ----------------------------------------------------------------------------

  function formatDuration(total) {
    total = Math.max(0, Math.floor(total));
    const d = Math.floor(total / 86400);
    const h = Math.floor((total % 86400) / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    const hms = [h, m, s].map((x) => String(x).padStart(2, '0')).join(':');
    return d > 0 ? d + 'd ' + hms : hms;
  }

  function renderUptime() {
    if (!state.status) return;
    const elapsed = (Date.now() - state.statusAt) / 1000;
    $('status-uptime').textContent = formatDuration(state.status.uptime_seconds + elapsed);
  }

  function badge(stateName) {
    const span = document.createElement('span');
    span.className = 'badge state-' + stateName;
    span.textContent = stateName;
    span.dataset.testid = 'badge';
    return span;
  }

  function renderStatus(st) {
    $('status-version').textContent = st.version;
    const ready = $('status-ready');
    ready.textContent = '';
    ready.appendChild(badge(st.ready ? 'ready' : 'not-ready'));
    renderUptime();
    const body = $('components-body');
    body.textContent = '';
    for (const c of st.components || []) {
      const tr = document.createElement('tr');
      tr.dataset.component = c.name;
      tr.dataset.testid = 'component-row';
      const name = document.createElement('td');
      name.textContent = c.name;
      const stateCell = document.createElement('td');
      stateCell.appendChild(badge(c.state));
      const msg = document.createElement('td');
      msg.textContent = c.message || '';
      const since = document.createElement('td');
      since.textContent = c.since ? new Date(c.since * 1000).toLocaleString() : '';
      tr.append(name, stateCell, msg, since);
      body.appendChild(tr);
    }
    if (!st.components || st.components.length === 0) {
      const tr = document.createElement('tr');
      const td = document.createElement('td');
      td.colSpan = 4;
      td.className = 'hint';
      td.textContent = 'No components reported yet.';
      tr.appendChild(td);
      body.appendChild(tr);
    }
    $('status-updated').textContent = 'Last update ' + new Date().toLocaleTimeString() + '.';
  }

  async function refreshStatus() {
    try {
      const st = await api('GET', '/api/v1/status');
      state.status = st;
      state.statusAt = Date.now();
      renderStatus(st);
      if ($('banner').classList.contains('error')) banner('');
    } catch (e) {
      if (e.status !== 401 && e.status !== 403) banner('Status unavailable: ' + e.message, 'error');
    }
  }

  function stopRefresh() {
    clearInterval(state.refreshTimer);
    clearInterval(state.tickTimer);
    state.refreshTimer = state.tickTimer = null;
  }

  function showDashboard() {
    show('dashboard');
    stopRefresh();
    refreshStatus();
    state.refreshTimer = setInterval(refreshStatus, REFRESH_MS);
    state.tickTimer = setInterval(renderUptime, 1000);
  }

  // ---- settings -----------------------------------------------------------------------------

  function valueText(s) {
    if (s.secret) return s.value && s.value.set ? '•••••• (set)' : '(not set)';
    return s.value === null ? '' : s.value;
  }

  function renderSettingRow(s) {
    const tpl = $('setting-row').content.firstElementChild.cloneNode(true);
    tpl.dataset.key = s.key;
    tpl.dataset.testid = 'setting-row';
    tpl.querySelector('.key code').textContent = s.key;
    tpl.querySelector('.key .desc').textContent = s.description;
    tpl.querySelector('.type').textContent = s.type + (s.choices ? ' (' + s.choices + ')' : '');
    const valueCell = tpl.querySelector('.value');
    valueCell.textContent = valueText(s);
    valueCell.dataset.testid = 'setting-value';
    if (s.value === null) valueCell.classList.add('unset');
    tpl.querySelector('.default').textContent = s.default === null ? '' : s.default;
    if (state.user && state.user.role === 'admin') {
      const edit = document.createElement('button');
      edit.type = 'button';
      edit.className = 'secondary small';
      edit.textContent = 'Edit';
      edit.dataset.testid = 'setting-edit';
      edit.addEventListener('click', () => editSetting(tpl, s));
      tpl.querySelector('.actions').appendChild(edit);
    }
    return tpl;
  }

  function editSetting(row, s) {
    const valueCell = row.querySelector('.value');
    const actions = row.querySelector('.actions');
    valueCell.textContent = '';
    actions.textContent = '';
    const input = document.createElement('input');
    input.type = s.secret ? 'password' : 'text';
    input.autocomplete = 'off';
    input.value = s.secret || s.value === null ? '' : s.value;
    input.placeholder = s.secret ? 'new secret value' : (s.default || '');
    input.dataset.testid = 'setting-input';
    const err = document.createElement('div');
    err.className = 'error';
    err.hidden = true;
    valueCell.append(input, err);
    const mk = (label, testid, cls, fn) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = label;
      b.className = cls;
      b.dataset.testid = testid;
      b.addEventListener('click', fn);
      actions.appendChild(b);
    };
    const save = async (value) => {
      try {
        const updated = await api('PUT', '/api/v1/settings/' + encodeURIComponent(s.key), { value });
        row.replaceWith(renderSettingRow(updated));
        banner('Saved ' + s.key + '.', 'ok');
      } catch (e) {
        err.textContent = e.message;
        err.hidden = false;
      }
    };
    mk('Save', 'setting-save', 'small', () => save(input.value));
    mk('Default', 'setting-reset', 'secondary small', () => save(null));
    mk('Cancel', 'setting-cancel', 'secondary small', () => row.replaceWith(renderSettingRow(s)));
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') save(input.value);
      if (ev.key === 'Escape') row.replaceWith(renderSettingRow(s));
    });
    input.focus();
  }

  async function showSettings() {
    show('settings');
    const body = $('settings-body');
    try {
      const data = await api('GET', '/api/v1/settings');
      body.textContent = '';
      for (const s of data.settings) body.appendChild(renderSettingRow(s));
    } catch (e) {
      if (e.status !== 401 && e.status !== 403) banner('Settings unavailable: ' + e.message, 'error');
    }
  }

  // ---- start --------------------------------------------------------------------------------

  async function start() {
    $('login-form').addEventListener('submit', onLogin);
    $('password-form').addEventListener('submit', onPassword);
    $('logout').addEventListener('click', onLogout);
    window.addEventListener('hashchange', () => { if (state.user) route(); });
    try {
      state.user = await api('GET', '/api/v1/session');
    } catch (e) {
      state.user = null;
    }
    route();
  }

  document.addEventListener('DOMContentLoaded', start);
})();

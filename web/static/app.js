// Sluice console: login, one-time password change, dashboard (status + component health, refreshed
// every 5 s), the Kafka topic and message browser, transformation rules (versions, dry runs,
// activation, diffs, dead letters), and settings. Vanilla JS, no build step; the page's CSP forbids inline script, so all
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
  const views = ['login', 'password', 'dashboard', 'topics', 'rules', 'settings'];
  const insideViews = ['dashboard', 'topics', 'rules', 'settings'];

  // ---- HTTP ---------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    this.data = null;      // the JSON body of the error answer, if any
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
      err.data = data;
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
    const inside = insideViews.includes(view);
    $('nav').hidden = !inside;
    $('logout').hidden = !state.user;
    $('whoami').textContent = state.user ? state.user.user + ' (' + state.user.role + ')' : '';
    for (const v of insideViews) {
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
    if (location.hash === '#topics' || location.hash.startsWith('#topics/')) return showTopics();
    if (location.hash === '#rules' || location.hash.startsWith('#rules/')) return showRules();
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

  // ---- topics: the Kafka message browser ------------------------------------------------------
  // #topics lists the topics; #topics/<name> also shows the latest messages of one partition,
  // newest first, with paging to older offsets. Values are pretty-printed when they are JSON.

  const PAGE = 20;
  const browse = {
    list: null,       // last /api/v1/kafka/topics answer
    topic: null,      // topic shown in the messages card
    partition: 0,
    request: null,    // {offset, limit} of the page shown; offset null = the latest messages
    page: null,       // last messages answer
  };

  function topicFromHash() {
    const m = /^#topics\/(.+)$/.exec(location.hash);
    if (!m) return null;
    try { return decodeURIComponent(m[1]); } catch (e) { return null; }
  }

  function formatCount(n) {
    return n === null || n === undefined ? '–' : Number(n).toLocaleString();
  }

  async function showTopics() {
    show('topics');
    const wanted = topicFromHash();
    await loadTopics();
    if (wanted) {
      await openTopic(wanted);
    } else {
      browse.topic = null;
      $('messages-card').hidden = true;
      markSelectedTopic();
    }
  }

  async function loadTopics() {
    showError('topics-error', '');
    const internal = $('topics-internal').checked;
    let data;
    try {
      data = await api('GET', '/api/v1/kafka/topics' + (internal ? '?internal=true' : ''));
    } catch (e) {
      browse.list = null;
      $('topics-body').textContent = '';
      $('kafka-embedded').hidden = true;
      if (e.status === 409) {
        $('topics').hidden = true;
        $('messages-card').hidden = true;
        $('topics-info').textContent = 'Kafka is not configured. Set kafka.brokers in Settings (host:port ' +
          'of your brokers, or "embedded" for the in-memory demo broker) and reload the appliance.';
        $('topics-info').dataset.state = 'off';
      } else if (e.status !== 401 && e.status !== 403) {
        showError('topics-error', e.message);
      }
      return;
    }
    browse.list = data;
    $('topics').hidden = false;
    $('kafka-embedded').hidden = !data.embedded;
    const info = $('topics-info');
    info.dataset.state = 'on';
    info.textContent = (data.embedded ? 'Embedded broker at ' : 'Brokers: ') + data.bootstrap + '. ' +
      data.topics.length + ' topic' + (data.topics.length === 1 ? '' : 's') +
      (data.hidden_internal ? ', ' + data.hidden_internal + ' internal hidden' : '') + '.';
    const body = $('topics-body');
    body.textContent = '';
    for (const t of data.topics) body.appendChild(renderTopicRow(t));
    if (data.topics.length === 0) {
      const tr = document.createElement('tr');
      const td = document.createElement('td');
      td.colSpan = 4;
      td.className = 'hint';
      td.textContent = 'No topics yet: they are created when the first change of a table is sent.';
      tr.appendChild(td);
      body.appendChild(tr);
    }
    markSelectedTopic();
  }

  function renderTopicRow(t) {
    const tr = document.createElement('tr');
    tr.dataset.testid = 'topic-row';
    tr.dataset.topic = t.name;
    tr.className = 'clickable';
    const name = document.createElement('td');
    const link = document.createElement('a');
    link.href = '#topics/' + encodeURIComponent(t.name);
    link.textContent = t.name;
    link.dataset.testid = 'topic-link';
    name.appendChild(link);
    const parts = document.createElement('td');
    parts.className = 'num';
    parts.textContent = t.partitions;
    const count = document.createElement('td');
    count.className = 'num';
    count.textContent = formatCount(t.messages);
    count.dataset.testid = 'topic-messages';
    const note = document.createElement('td');
    note.className = 'error';
    note.textContent = t.error || '';
    tr.append(name, parts, count, note);
    tr.addEventListener('click', (ev) => {
      if (ev.target !== link) location.hash = link.getAttribute('href');
    });
    return tr;
  }

  function markSelectedTopic() {
    for (const tr of $('topics-body').querySelectorAll('tr[data-topic]')) {
      tr.classList.toggle('selected', tr.dataset.topic === browse.topic);
    }
  }

  async function openTopic(name) {
    const t = browse.list && browse.list.topics.find((x) => x.name === name);
    if (browse.topic !== name) {   // a new topic opens on its first partition holding messages
      browse.topic = name;
      const first = t && t.partition_offsets.find((x) => x.messages > 0);
      browse.partition = first ? first.partition : 0;
    }
    const sel = $('messages-partition');
    sel.textContent = '';
    const n = t ? t.partitions : browse.partition + 1;
    for (let p = 0; p < n; p++) {
      const o = document.createElement('option');
      o.value = String(p);
      const po = t && t.partition_offsets.find((x) => x.partition === p);
      o.textContent = p + (po && po.messages !== null ? ' (' + formatCount(po.messages) + ')' : '');
      sel.appendChild(o);
    }
    if (browse.partition >= n) browse.partition = 0;
    sel.value = String(browse.partition);
    $('messages-partition-label').hidden = n <= 1;
    $('messages-title').textContent = name;
    $('messages-card').hidden = false;
    markSelectedTopic();
    await loadMessages(null, PAGE);
  }

  async function loadMessages(offset, limit) {
    const topic = browse.topic, partition = browse.partition;
    let q = '?partition=' + partition + '&limit=' + limit;
    if (offset !== null) q += '&offset=' + offset;
    showError('messages-error', '');
    for (const id of ['messages-older', 'messages-newer', 'messages-latest']) $(id).disabled = true;
    let page;
    try {
      page = await api('GET', '/api/v1/kafka/topics/' + encodeURIComponent(topic) + '/messages' + q);
    } catch (e) {
      if (topic !== browse.topic || partition !== browse.partition) return;
      browse.page = null;
      $('messages-list').textContent = '';
      $('messages-range').textContent = '';
      $('messages-latest').disabled = false;
      if (e.status !== 401 && e.status !== 403) showError('messages-error', e.message);
      return;
    }
    if (topic !== browse.topic || partition !== browse.partition) return;   // the user moved on
    browse.request = { offset, limit };
    browse.page = page;
    renderMessages(page);
  }

  function renderMessages(page) {
    const list = $('messages-list');
    list.textContent = '';
    const n = page.messages.length;
    const span = page.high - page.low;
    $('messages-range').textContent = (n
      ? 'Offsets ' + page.offset + '–' + (page.next_offset - 1) + ', newest first. '
      : 'No messages at offset ' + page.offset + '. ') +
      'Partition ' + page.partition + (span > 0 ? ' holds offsets ' + page.low + '–' + (page.high - 1)
                                                  : ' is empty') + '.';
    for (let i = n - 1; i >= 0; i--) list.appendChild(renderMessage(page.messages[i]));
    $('messages-older').disabled = page.older_offset === null;
    $('messages-newer').disabled = page.next_offset >= page.high;
    $('messages-latest').disabled = false;
  }

  // Re-indent valid JSON text without parsing its numbers (JSON.parse would round 64-bit
  // integers such as Debezium's ts_ns).
  function reindent(text) {
    let out = '';
    let depth = 0;
    const nl = () => '\n' + '  '.repeat(depth);
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c === '"') {
        let j = i + 1;
        while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
        out += text.slice(i, j + 1);
        i = j;
      } else if (c === '{' || c === '[') {
        let j = i + 1;
        while (j < text.length && /\s/.test(text[j])) j++;
        if (text[j] === (c === '{' ? '}' : ']')) {
          out += c + text[j];
          i = j;
        } else {
          depth++;
          out += c + nl();
        }
      } else if (c === '}' || c === ']') {
        depth--;
        out += nl() + c;
      } else if (c === ',') {
        out += ',' + nl();
      } else if (c === ':') {
        out += ': ';
      } else if (!/\s/.test(c)) {
        out += c;
      }
    }
    return out;
  }

  function prettyValue(text) {
    const t = text.trimStart();
    if (t[0] !== '{' && t[0] !== '[') return text;
    try {
      JSON.parse(text);
    } catch (e) {
      return text;
    }
    return reindent(text);
  }

  function flag(el, text, cls) {
    const span = document.createElement('span');
    span.className = 'flag ' + (cls || '');
    span.textContent = text;
    el.appendChild(span);
  }

  function renderMessage(m) {
    const el = $('message-item').content.firstElementChild.cloneNode(true);
    el.dataset.testid = 'message';
    el.dataset.offset = String(m.offset);
    el.querySelector('.offset').textContent = 'offset ' + m.offset;
    const time = el.querySelector('.time');
    if (m.timestamp !== null) {
      const d = new Date(m.timestamp);
      time.textContent = d.toLocaleString();
      time.title = d.toISOString() + (m.timestamp_type === 'log_append' ? ' (broker time)' : ' (producer time)');
    }
    const key = el.querySelector('.key');
    key.dataset.testid = 'message-key';
    if (m.key === null) {
      key.textContent = 'none';
      key.classList.add('null');
    } else {
      key.textContent = m.key;
    }
    const flags = el.querySelector('.flags');
    const value = el.querySelector('.value');
    value.dataset.testid = 'message-value';
    if (m.value === null) {
      value.textContent = 'null';
      value.classList.add('null');
      el.classList.add('tombstone');
      flag(flags, 'tombstone', 'tombstone');
    } else {
      value.textContent = m.value_escaped || m.value_truncated ? m.value : prettyValue(m.value);
    }
    if (m.key_escaped || m.value_escaped) flag(flags, 'not UTF-8: bytes shown as \\xNN', 'warn');
    if (m.value_truncated) flag(flags, 'value cut at 64 KiB of ' + formatCount(m.value_size) + ' bytes', 'warn');
    if (m.key_truncated) flag(flags, 'key cut at 64 KiB of ' + formatCount(m.key_size) + ' bytes', 'warn');
    const headers = el.querySelector('.headers');
    const hbody = headers.querySelector('tbody');
    for (const h of m.headers || []) {
      const tr = document.createElement('tr');
      const k = document.createElement('td');
      k.textContent = h.key;
      const v = document.createElement('td');
      v.textContent = h.value === null ? 'null' : h.value;
      tr.append(k, v);
      hbody.appendChild(tr);
    }
    headers.hidden = !m.headers || m.headers.length === 0;
    return el;
  }

  function pageOlder() {
    const p = browse.page;
    if (!p || p.older_offset === null) return;
    loadMessages(p.older_offset, Math.min(PAGE, p.offset - p.older_offset));
  }

  function pageNewer() {
    const p = browse.page;
    if (p && p.next_offset < p.high) loadMessages(p.next_offset, PAGE);
  }

  async function refreshTopics() {
    await loadTopics();
    if (browse.topic && !$('messages-card').hidden) {
      const r = browse.request || { offset: null, limit: PAGE };
      await loadMessages(r.offset, r.limit);
    }
  }

  // ---- rules: versions, dry runs, activation, diffs, dead letters ------------------------------
  // #rules lists the rules; #rules/<name> also opens its versions. The editor writes a new version
  // (of the open rule, or of a new one); "Dry run" runs the draft on the appliance's sample of
  // recently captured events and shows each event before and after (or the error).

  const rulesState = {
    list: null,      // last /api/v1/rules answer
    name: null,      // the open rule (null: a new one)
    detail: null,    // last /api/v1/rules/<name> answer
    flash: null,     // a message to show once the view has been rebuilt (route() clears the banner)
  };

  const canOperate = () => !!state.user && (state.user.role === 'operator' || state.user.role === 'admin');

  function ruleFromHash() {
    const m = /^#rules\/(.+)$/.exec(location.hash);
    return m ? decodeURIComponent(m[1]) : null;
  }

  function formatTime(unix) {
    return unix ? new Date(unix * 1000).toLocaleString() : '';
  }

  async function showRules() {
    show('rules');
    const operator = canOperate();
    $('rules-new').hidden = !operator;
    $('rule-dry-run').hidden = !operator;
    $('rule-save').hidden = !operator;
    $('rule-viewer-hint').hidden = operator;
    for (const id of ['rule-source', 'rule-pattern', 'rule-comment', 'rule-name']) $(id).readOnly = !operator;
    await loadRules();
    loadDeadLetters();
    const name = ruleFromHash();
    if (name) await openRule(name);
    else closeRule();
    if (rulesState.flash) {
      banner(rulesState.flash, 'ok');
      rulesState.flash = null;
    }
  }

  async function loadRules() {
    showError('rules-error', '');
    let data;
    try {
      data = await api('GET', '/api/v1/rules');
    } catch (e) {
      if (e.status !== 401 && e.status !== 403) showError('rules-error', e.message);
      return;
    }
    rulesState.list = data;
    $('rules-info').textContent = data.rules.length + ' rule' + (data.rules.length === 1 ? '' : 's') +
      '. Dry runs use the last events captured: ' + data.sample.events + ' event' +
      (data.sample.events === 1 ? '' : 's') + ' of ' + data.sample.tables + ' table' +
      (data.sample.tables === 1 ? '' : 's') + ' now.';
    const body = $('rules-body');
    body.textContent = '';
    for (const r of data.rules) {
      const tr = document.createElement('tr');
      tr.dataset.testid = 'rule-row';
      tr.dataset.rule = r.name;
      tr.className = 'clickable';
      const name = document.createElement('td');
      const link = document.createElement('a');
      link.href = '#rules/' + encodeURIComponent(r.name);
      link.textContent = r.name;
      name.appendChild(link);
      const pattern = document.createElement('td');
      const code = document.createElement('code');
      code.textContent = r.pattern;
      pattern.appendChild(code);
      const cells = [name, pattern];
      for (const v of [r.active_version === null ? 'off' : 'v' + r.active_version, 'v' + r.latest, r.versions]) {
        const td = document.createElement('td');
        td.className = 'num';
        td.textContent = String(v);
        cells.push(td);
      }
      cells[2].dataset.testid = 'rule-active';
      tr.append(...cells);
      tr.addEventListener('click', (ev) => {
        if (ev.target.tagName !== 'A') location.hash = '#rules/' + encodeURIComponent(r.name);
      });
      body.appendChild(tr);
    }
    if (data.rules.length === 0) {
      const tr = document.createElement('tr');
      const td = document.createElement('td');
      td.colSpan = 5;
      td.className = 'hint';
      td.textContent = 'No rules yet.' + (canOperate() ? ' "New rule" writes the first one.' : '');
      tr.appendChild(td);
      body.appendChild(tr);
    }
    for (const tr of body.querySelectorAll('tr[data-rule]')) {
      tr.classList.toggle('selected', tr.dataset.rule === rulesState.name);
    }
  }

  function closeRule() {
    rulesState.name = null;
    rulesState.detail = null;
    $('rule-editor').hidden = !canOperate();
    $('rule-versions-card').hidden = true;
    $('rule-editor-title').textContent = 'New rule';
    $('rule-name').disabled = false;
    $('rule-name').value = '';
    $('rule-pattern').value = '';
    $('rule-comment').value = '';
    $('rule-source').value = 'function transform(event)\n  return event\nend\n';
    $('rule-dry').hidden = true;
    showError('rule-editor-error', '');
  }

  function newRule() {
    if (location.hash !== '#rules') location.hash = '#rules';
    closeRule();
    $('rule-editor').hidden = false;
    $('rule-name').focus();
  }

  async function openRule(name) {
    let d;
    try {
      d = await api('GET', '/api/v1/rules/' + encodeURIComponent(name));
    } catch (e) {
      if (e.status !== 401 && e.status !== 403) showError('rules-error', e.message);
      return;
    }
    const changed = rulesState.name !== name;
    rulesState.name = name;
    rulesState.detail = d;
    for (const tr of $('rules-body').querySelectorAll('tr[data-rule]')) {
      tr.classList.toggle('selected', tr.dataset.rule === name);
    }
    $('rule-editor').hidden = false;
    $('rule-editor-title').textContent = (canOperate() ? 'New version of ' : '') + name;
    $('rule-name').value = name;
    $('rule-name').disabled = true;
    if (changed) {   // the latest version as the starting point of the next
      $('rule-pattern').value = d.pattern;
      $('rule-comment').value = '';
      $('rule-source').value = d.versions.length ? d.versions[0].source : '';
      $('rule-dry').hidden = true;
      showError('rule-editor-error', '');
      $('rule-failures').textContent = '';
      showError('rule-versions-error', '');
    }
    renderVersions(d);
  }

  function renderVersions(d) {
    $('rule-versions-card').hidden = false;
    $('rule-versions-title').textContent = 'Versions of ' + d.name;
    const body = $('rule-versions-body');
    body.textContent = '';
    for (const v of d.versions) {
      const tr = document.createElement('tr');
      tr.dataset.testid = 'version-row';
      tr.dataset.version = String(v.version);
      const cells = ['v' + v.version, v.author, formatTime(v.created_at), v.comment, v.active ? 'active' : ''];
      for (const text of cells) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.appendChild(td);
      }
      tr.cells[0].className = 'num';
      tr.cells[4].dataset.testid = 'version-state';
      if (v.active) {
        const b = document.createElement('span');
        b.className = 'badge state-ok';
        b.textContent = 'active';
        tr.cells[4].textContent = '';
        tr.cells[4].appendChild(b);
      }
      const actions = document.createElement('td');
      actions.className = 'actions';
      const mk = (label, testid, fn) => {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'secondary small';
        b.textContent = label;
        b.dataset.testid = testid;
        b.addEventListener('click', fn);
        actions.appendChild(b);
      };
      mk(canOperate() ? 'Edit' : 'View', 'version-load', () => {
        $('rule-source').value = v.source;
        $('rule-comment').value = '';
        $('rule-source').focus();
      });
      if (canOperate()) {
        const active = d.active_version;
        if (v.active) {
          mk('Deactivate', 'version-deactivate', () => activateVersion(0));
        } else {
          mk(active !== null && v.version < active ? 'Roll back' : 'Activate',
             active !== null && v.version < active ? 'version-rollback' : 'version-activate',
             () => activateVersion(v.version));
        }
      }
      tr.appendChild(actions);
      body.appendChild(tr);
    }
    for (const id of ['rule-diff-from', 'rule-diff-to']) {
      const sel = $(id);
      const keep = sel.value;
      sel.textContent = '';
      for (const v of d.versions.slice().reverse()) {
        const o = document.createElement('option');
        o.value = String(v.version);
        o.textContent = 'v' + v.version;
        sel.appendChild(o);
      }
      if (keep && d.versions.some((v) => String(v.version) === keep)) sel.value = keep;
    }
    if (d.versions.length > 1 && !$('rule-diff-from').dataset.touched) {
      $('rule-diff-from').value = String(d.versions[1].version);
      $('rule-diff-to').value = String(d.versions[0].version);
    }
  }

  function pretty(v) {
    return reindent(JSON.stringify(v));
  }

  function renderDryRun(r) {
    const list = $('rule-dry-list');
    list.textContent = '';
    $('rule-dry').hidden = false;
    let summary = r.events + ' sampled event' + (r.events === 1 ? '' : 's') + ' of ' + r.pattern + ': ' +
      r.errors + ' error' + (r.errors === 1 ? '' : 's') + ', ' + r.dropped + ' dropped.';
    if (r.events === 0) summary += ' Nothing captured from matching tables yet: change some rows and try again.';
    if (r.truncated) summary += ' The first ' + r.results.length + ' are shown.';
    $('rule-dry-summary').textContent = summary;
    $('rule-dry-summary').dataset.errors = String(r.errors);
    for (const x of r.results) {
      const el = document.createElement('article');
      el.className = 'dry-item' + (x.error ? ' failed' : x.after === null ? ' dropped' : '');
      el.dataset.testid = 'dry-item';
      const head = document.createElement('div');
      head.className = 'label';
      head.textContent = x.table + (x.before && x.before.op ? ' · op ' + x.before.op : '');
      const cols = document.createElement('div');
      cols.className = 'cols';
      const side = (label, content, testid, cls) => {
        const d = document.createElement('div');
        const l = document.createElement('div');
        l.className = 'label';
        l.textContent = label;
        const pre = document.createElement('pre');
        pre.dataset.testid = testid;
        if (cls) pre.className = cls;
        pre.textContent = content;
        d.append(l, pre);
        return d;
      };
      let after;
      if (x.error) after = side('error', x.error, 'dry-error', 'dry-error');
      else if (x.after === null) after = side('after', 'dropped (the rule returned nil)', 'dry-after');
      else after = side('after' + (x.after.length > 1 ? ' (' + x.after.length + ' events)' : ''),
                        x.after.map(pretty).join('\n'), 'dry-after');
      cols.append(side('before', pretty(x.before), 'dry-before'), after);
      if (x.route && x.after) cols.append(side('route', x.route.map(describeRoute).join('\n'), 'dry-route'));
      el.append(head, cols);
      list.appendChild(el);
    }
  }

  // route()'s answer for one resulting event, as the pipeline reads it (rules_route.h).
  function describeRoute(r) {
    if (r === null) return "the table's own topic and lake table";
    if (typeof r === 'string') return 'table ' + r + ' (topic <prefix>.' + r + ')';
    const parts = [];
    if (r.topic) parts.push('topic ' + r.topic);
    if (r.table) parts.push('lake table ' + r.table);
    return parts.join(', ') || "the table's own topic and lake table";
  }

  function draftName() {
    return rulesState.name || $('rule-name').value.trim();
  }

  async function dryRun() {
    showError('rule-editor-error', '');
    const name = draftName();
    if (!name) return showError('rule-editor-error', 'Give the rule a name first.');
    const body = { source: $('rule-source').value };
    if ($('rule-pattern').value.trim()) body.pattern = $('rule-pattern').value.trim();
    try {
      renderDryRun(await api('POST', '/api/v1/rules/' + encodeURIComponent(name) + '/dry-run', body));
    } catch (e) {
      $('rule-dry').hidden = true;
      showError('rule-editor-error', e.message);
    }
  }

  async function saveVersion() {
    showError('rule-editor-error', '');
    const name = draftName();
    if (!name) return showError('rule-editor-error', 'Give the rule a name first.');
    const body = { source: $('rule-source').value, comment: $('rule-comment').value };
    if ($('rule-pattern').value.trim()) body.pattern = $('rule-pattern').value.trim();
    try {
      const saved = await api('POST', '/api/v1/rules/' + encodeURIComponent(name) + '/versions', body);
      const msg = 'Saved ' + name + ' version ' + saved.version + '. It is not active until you activate it.';
      $('rule-comment').value = '';
      const target = '#rules/' + encodeURIComponent(name);
      if (location.hash !== target) {
        rulesState.flash = msg;
        location.hash = target;   // the hashchange opens it
      } else {
        banner(msg, 'ok');
        await loadRules();
        await openRule(name);
      }
    } catch (e) {
      showError('rule-editor-error', e.message);
    }
  }

  async function activateVersion(version) {
    const name = rulesState.name;
    showError('rule-versions-error', '');
    $('rule-failures').textContent = '';
    try {
      const r = await api('POST', '/api/v1/rules/' + encodeURIComponent(name) + '/activate', { version });
      banner(version === 0 ? 'Rule ' + name + ' is off.'
        : 'Rule ' + name + ' ' + r.change + ' to version ' + version + ' (dry run: ' + r.dry_run.events +
          ' event' + (r.dry_run.events === 1 ? '' : 's') + ', no errors). The pipeline applies it from its next transaction.', 'ok');
      await loadRules();
      await openRule(name);
    } catch (e) {
      showError('rule-versions-error', e.message);
      const failures = (e.data && e.data.failures) || [];
      for (const f of failures) {
        const el = document.createElement('article');
        el.className = 'dry-item failed';
        el.dataset.testid = 'activate-failure';
        const head = document.createElement('div');
        head.className = 'label';
        head.textContent = f.table;
        const err = document.createElement('pre');
        err.className = 'dry-error';
        err.textContent = f.error;
        const before = document.createElement('pre');
        before.textContent = pretty(f.before);
        el.append(head, err, before);
        $('rule-failures').appendChild(el);
      }
    }
  }

  async function showDiff() {
    const out = $('rule-diff-out');
    const from = $('rule-diff-from').value, to = $('rule-diff-to').value;
    try {
      const d = await api('GET', '/api/v1/rules/' + encodeURIComponent(rulesState.name) + '/diff?from=' +
                          encodeURIComponent(from) + '&to=' + encodeURIComponent(to));
      out.textContent = '';
      if (!d.diff) {
        out.textContent = 'v' + from + ' and v' + to + ' are the same.';
      }
      for (const line of d.diff.split('\n')) {
        if (!line) continue;
        const span = document.createElement('span');
        span.className = line.startsWith('@@') ? 'hunk' : line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : '';
        span.textContent = line + '\n';
        out.appendChild(span);
      }
      out.hidden = false;
    } catch (e) {
      showError('rule-versions-error', e.message);
    }
  }

  async function loadDeadLetters() {
    const body = $('dead-body');
    let data;
    try {
      data = await api('GET', '/api/v1/rules/dead-letters?limit=50');
    } catch (e) {
      return;
    }
    body.textContent = '';
    for (const dl of data.dead_letters) {
      const tr = document.createElement('tr');
      tr.dataset.testid = 'dead-row';
      tr.dataset.id = dl.id;
      for (const text of [formatTime(dl.ts), dl.rule + ' v' + dl.version, dl.table, dl.lsn, dl.error]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.appendChild(td);
      }
      tr.appendChild(deadReplayCell(dl));
      tr.title = typeof dl.event === 'string' ? dl.event : JSON.stringify(dl.event);
      body.appendChild(tr);
    }
    if (data.dead_letters.length === 0) {
      const tr = document.createElement('tr');
      const td = document.createElement('td');
      td.colSpan = 6;
      td.className = 'hint';
      td.textContent = 'None.';
      tr.appendChild(td);
      body.appendChild(tr);
    }
  }

  // The replay state of a dead letter, or a Replay button (operators, replayable ones not yet asked for).
  function deadReplayCell(dl) {
    const td = document.createElement('td');
    td.dataset.testid = 'dead-replay';
    if (dl.replay_state === 'replayed') {
      td.textContent = 'replayed: ' + (dl.replay_result || '');
    } else if (dl.replay_state === 'requested') {
      td.textContent = 'requested (at the next source transaction)';
    } else if (!dl.replayable) {
      td.textContent = 'not replayable (recorded by an older version)';
      td.className = 'hint';
    } else if (canOperate()) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'secondary small';
      b.textContent = 'Replay';
      b.dataset.testid = 'dead-replay-button';
      b.addEventListener('click', () => replayDeadLetter(dl.id, b));
      td.appendChild(b);
    }
    return td;
  }

  async function replayDeadLetter(id, button) {
    showError('dead-error', '');
    button.disabled = true;
    try {
      const r = await api('POST', '/api/v1/rules/dead-letters/replay', { ids: [id] });
      banner(r.note, 'ok');
    } catch (e) {
      showError('dead-error', e.message);
    }
    await loadDeadLetters();
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
    $('topics-refresh').addEventListener('click', refreshTopics);
    $('topics-internal').addEventListener('change', loadTopics);
    $('messages-older').addEventListener('click', pageOlder);
    $('messages-newer').addEventListener('click', pageNewer);
    $('messages-latest').addEventListener('click', () => loadMessages(null, PAGE));
    $('messages-partition').addEventListener('change', (ev) => {
      browse.partition = Number(ev.target.value);
      loadMessages(null, PAGE);
    });
    $('rules-new').addEventListener('click', newRule);
    $('rules-refresh').addEventListener('click', async () => {
      await loadRules();
      if (rulesState.name) await openRule(rulesState.name);
      loadDeadLetters();
    });
    $('rule-dry-run').addEventListener('click', dryRun);
    $('rule-save').addEventListener('click', saveVersion);
    $('rule-diff').addEventListener('click', showDiff);
    for (const id of ['rule-diff-from', 'rule-diff-to']) {
      $(id).addEventListener('change', () => { $('rule-diff-from').dataset.touched = '1'; });
    }
    $('dead-refresh').addEventListener('click', loadDeadLetters);
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

// RcmPitr's web page: the runs list (/), one run (/runs/{id}), the restore drills (/drills) and one drill's report
// (/drills/{id}, with a chart of restore durations over past drills) over the JSON API.
// Everything from the API is written with textContent, never as HTML. The embedded host's API key is kept in
// sessionStorage (this tab only) and sent as x-functions-key; on Azure the App Service sign-in cookie goes with
// same-origin requests and a key is asked for only when the API answers 401.
'use strict';

(() => {
  const KEY = 'rcm-pitr.api-key';
  const ACTIVE = ['Pending', 'Running'];
  const LIST_REFRESH_MS = 10000;
  const RUN_REFRESH_MS = 3000;

  const $ = (id) => document.getElementById(id);
  const state = { me: null, timer: null, ticket: 0, lastJson: null, lastChanges: null, runId: null, run: null, busy: false, drillId: null };

  // ---- helpers -------------------------------------------------------------------------------------------------

  class Unauthorized extends Error {}

  function storedKey() {
    try { return sessionStorage.getItem(KEY); } catch { return null; }
  }

  async function api(path, options = {}) {
    const headers = Object.assign({ Accept: 'application/json' }, options.headers || {});
    const key = storedKey();
    if (key) { headers['x-functions-key'] = key; }
    const response = await fetch(path, Object.assign({}, options, { headers, credentials: 'same-origin', cache: 'no-store', redirect: 'error' }));
    if (response.status === 401) {
      throw new Unauthorized(await problemText(response, 'Sign-in required.'));
    }
    return response;
  }

  async function problemText(response, fallback) {
    try {
      const body = await response.json();
      const parts = [body.title, body.detail].filter((p) => typeof p === 'string' && p.length > 0);
      if (body.errors && typeof body.errors === 'object') {
        for (const [field, messages] of Object.entries(body.errors)) { parts.push(`${field}: ${[].concat(messages).join('; ')}`); }
      }
      return parts.length > 0 ? parts.join(' — ') : `${fallback} (HTTP ${response.status})`;
    } catch {
      return `${fallback} (HTTP ${response.status})`;
    }
  }

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }

  function row(cells) {
    const tr = document.createElement('tr');
    for (const cell of cells) {
      const td = document.createElement('td');
      if (cell instanceof Node) { td.appendChild(cell); } else if (cell && typeof cell === 'object') {
        td.textContent = cell.text === undefined || cell.text === null ? '' : String(cell.text);
        if (cell.className) { td.className = cell.className; }
      } else { td.textContent = cell === undefined || cell === null ? '' : String(cell); }
      tr.appendChild(td);
    }
    return tr;
  }

  function fill(tbody, rows) { tbody.replaceChildren(...rows); }

  function when(value) {
    if (!value) { return ''; }
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? String(value) : date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  }

  function duration(start, end) {
    if (!start) { return ''; }
    const ms = (end ? new Date(end) : new Date()) - new Date(start);
    if (Number.isNaN(ms) || ms < 0) { return ''; }
    const s = ms / 1000;
    let text;
    if (s < 60) { text = `${s.toFixed(1)} s`; }
    else if (s < 3600) { text = `${Math.floor(s / 60)} min ${Math.floor(s % 60)} s`; }
    else if (s < 86400) { text = `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`; }
    else { text = `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`; }
    return end ? text : `${text} so far`;
  }

  function bytes(n) {
    if (typeof n !== 'number') { return ''; }
    if (n < 1024 * 1024) { return `${(n / 1024).toFixed(1)} KB`; }
    return n < 1024 * 1024 * 1024 ? `${(n / 1048576).toFixed(1)} MB` : `${(n / 1073741824).toFixed(2)} GB`;
  }

  function count(n) { return typeof n === 'number' ? n.toLocaleString('en-US') : ''; }

  function announce(text) { $('live').textContent = text; }

  function show(section) {
    for (const id of ['signin', 'list', 'run', 'drills', 'drill']) { $(id).hidden = id !== section; }
  }

  function stopTimer() {
    if (state.timer) { clearTimeout(state.timer); state.timer = null; }
  }

  // One pending refresh at most, even when a refresh asked for by a click overlaps one the timer started.
  function schedule(refresh, ms) {
    stopTimer();
    if (!state.me) { return; } // signed out while the refresh was under way
    state.timer = setTimeout(refresh, ms);
  }

  // Each refresh takes a ticket. One whose answers arrive after a newer refresh started (a click's refresh overlapping
  // the timer's) leaves the page to the newer one: an answer read earlier never draws over a later one, so a run shown
  // Restored is never shown Running again, and the older refresh schedules nothing.
  function takeTicket() {
    state.ticket += 1;
    return state.ticket;
  }

  function superseded(ticket) { return ticket !== state.ticket; }

  function sameId(a, b) {
    const norm = (v) => (typeof v === 'string' ? v.trim().toLowerCase() : '');
    return norm(a).length > 0 && norm(a) === norm(b);
  }

  // ---- sign-in -------------------------------------------------------------------------------------------------

  function askToSignIn(why) {
    stopTimer();
    takeTicket(); // a refresh still under way draws nothing once signed out
    state.me = null;
    $('who').hidden = true;
    $('signin-why').textContent = why || '';
    if (!$('signin').hidden) { return; } // already asking: leave what is being typed alone
    show('signin');
    $('api-key').value = '';
    $('api-key').focus();
  }

  async function loadMe() {
    const response = await api('/api/me');
    if (!response.ok) { throw new Error(await problemText(response, 'Could not read who you are')); }
    state.me = await response.json();
    $('who-name').textContent = state.me.name;
    $('who-roles').textContent = `(${(state.me.roles || []).join(', ') || 'no roles'})`;
    $('who').hidden = false;
  }

  async function signIn(event) {
    event.preventDefault();
    const key = $('api-key').value.trim();
    $('signin-error').textContent = '';
    if (key.length === 0) {
      $('signin-error').textContent = 'Enter your API key.';
      $('api-key').focus();
      return;
    }
    try { sessionStorage.setItem(KEY, key); } catch { /* storage refused: the key cannot be kept */ }
    $('api-key').value = '';
    try {
      await loadMe();
    } catch (e) {
      try { sessionStorage.removeItem(KEY); } catch { /* nothing kept */ }
      $('signin-error').textContent = e instanceof Unauthorized ? 'That key was not accepted.' : e.message;
      $('api-key').focus();
      return;
    }
    announce(`Signed in as ${state.me.name}.`);
    await route();
  }

  function signOut() {
    const hadKey = storedKey() !== null;
    try { sessionStorage.removeItem(KEY); } catch { /* nothing kept */ }
    stopTimer();
    if (!hadKey) {
      // Signed in by App Service authentication (Azure): its own sign-out ends that session.
      window.location.assign('/.auth/logout?post_logout_redirect_uri=/');
      return;
    }
    askToSignIn('Signed out. Enter a key to sign in again.');
    announce('Signed out.');
  }

  // ---- runs list -----------------------------------------------------------------------------------------------

  function statusText(run) {
    const custom = run.customStatus || {};
    if (run.outcome) { return run.outcome; }
    if (custom.awaitingApproval) { return `${run.runtimeStatus} — awaiting approval`; }
    return custom.phase ? `${run.runtimeStatus} — ${custom.phase}` : run.runtimeStatus;
  }

  async function showList() {
    show('list');
    document.title = 'Runs — RcmPitr';
    await refreshList();
  }

  async function refreshList() {
    stopTimer();
    const ticket = takeTicket();
    try {
      const response = await api('/api/restores');
      if (!response.ok) { throw new Error(await problemText(response, 'Could not list runs')); }
      const runs = await response.json();
      if (superseded(ticket)) { return; }
      $('list-error').textContent = '';
      const json = JSON.stringify(runs);
      if (json !== state.lastJson) {
        state.lastJson = json;
        fill($('runs-body'), runs.length === 0 ? [row([{ text: 'No runs yet.' }, '', '', '', '', ''])] : runs.map((run) => {
          const link = el('a', run.instanceId);
          link.href = `/runs/${encodeURIComponent(run.instanceId)}`;
          return row([link, run.tenant, run.kind, statusText(run), (run.input || {}).requestedBy, when(run.createdTime)]);
        }));
      }
      announce(`Runs updated at ${new Date().toLocaleTimeString('en-GB')}: ${runs.length}.`);
    } catch (e) {
      if (superseded(ticket)) { return; }
      if (e instanceof Unauthorized) { askToSignIn(e.message); return; }
      $('list-error').textContent = e.message;
    }
    schedule(refreshList, LIST_REFRESH_MS);
  }

  // ---- one run -------------------------------------------------------------------------------------------------

  async function showRun(id) {
    show('run');
    state.runId = id;
    $('run-title').textContent = `Run ${id}`;
    document.title = `${id} — RcmPitr`;
    await refreshRun();
  }

  function requesterIdOf(input) {
    if (!input) { return null; }
    return input.requestedById || input.requestedBy || null;
  }

  function fact(dl, term, value) {
    if (value === undefined || value === null || value === '') { return; }
    dl.appendChild(el('dt', term));
    dl.appendChild(el('dd', value));
  }

  function renderSummary(run) {
    const input = run.input || {};
    const custom = run.customStatus || {};
    const output = run.output && typeof run.output === 'object' ? run.output : {};
    const dl = $('summary');
    dl.replaceChildren();
    fact(dl, 'Tenant', input.tenant || custom.tenant);
    fact(dl, 'Mode', input.mode || custom.mode);
    fact(dl, 'Strategy', input.strategy);
    fact(dl, 'Transfer', input.transfer);
    fact(dl, 'Restore time', input.restoreTime ? when(input.restoreTime) : '');
    fact(dl, 'Rolls back', input.restoreRunId);
    fact(dl, 'Requested by', input.requestedBy);
    fact(dl, 'Reason', input.reason);
    fact(dl, 'Status', run.runtimeStatus);
    fact(dl, 'Phase', custom.phase);
    fact(dl, 'Outcome', output.outcome);
    fact(dl, 'Live database', output.liveDatabase);
    fact(dl, 'Kept database', output.keptDatabase);
    fact(dl, 'Created', when(run.createdTime));
    fact(dl, 'Last updated', when(run.lastUpdatedTime));
  }

  function renderState(run) {
    const custom = run.customStatus || {};
    const output = run.output && typeof run.output === 'object' ? run.output : {};
    let text;
    if (output.outcome) { text = `${output.outcome} (${run.runtimeStatus})`; }
    else if (custom.awaitingApproval) { text = 'Awaiting approval'; }
    else { text = custom.phase ? `${run.runtimeStatus}: ${custom.phase}` : run.runtimeStatus; }
    const node = $('run-state');
    if (node.textContent !== text) {
      node.textContent = text;
      announce(`Status: ${text}.`);
    }
    node.dataset.outcome = output.outcome || run.runtimeStatus;
  }

  function renderDecision(run) {
    const custom = run.customStatus || {};
    const open = ACTIVE.includes(run.runtimeStatus) && custom.awaitingApproval === true;
    $('decide').hidden = !open;
    if (!open) { return; }
    let reason = '';
    const me = state.me;
    if (me && sameId(me.id, requesterIdOf(run.input))) {
      reason = 'You requested this run; a second person must decide.';
    } else if (me && !(me.roles || []).includes('approver')) {
      reason = 'You do not hold the approver role, so you cannot approve or reject runs.';
    }
    for (const id of ['approve', 'reject']) { $(id).disabled = reason.length > 0 || state.busy; }
    $('decide-comment').disabled = reason.length > 0;
    $('decide-reason').textContent = reason;
  }

  async function decide(verb) {
    if (state.busy) { return; }
    state.busy = true;
    $('approve').disabled = true;
    $('reject').disabled = true;
    const result = $('decide-result');
    result.className = '';
    result.textContent = verb === 'approve' ? 'Sending approval…' : 'Sending rejection…';
    try {
      const comment = $('decide-comment').value.trim();
      const response = await api(`/api/restores/${encodeURIComponent(state.runId)}/${verb}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(comment.length > 0 ? { comment } : {}),
      });
      if (!response.ok) {
        result.className = 'error';
        result.textContent = `Not ${verb === 'approve' ? 'approved' : 'rejected'}: ${await problemText(response, 'The API refused')}`;
      } else {
        result.className = 'ok';
        result.textContent = verb === 'approve' ? 'Approved: the run cuts over now.' : 'Rejected: the run undoes what it did.';
        $('decide-comment').value = '';
      }
    } catch (e) {
      if (e instanceof Unauthorized) { state.busy = false; askToSignIn(e.message); return; }
      result.className = 'error';
      result.textContent = e.message;
    }
    state.busy = false;
    await refreshRun();
  }

  function renderAttention(run) {
    const custom = run.customStatus || {};
    const failure = run.runtimeStatus === 'Failed' ? (typeof run.output === 'string' ? run.output : custom.error) : custom.error;
    $('run-failure').textContent = failure ? `Error: ${failure}` : '';
    $('operator-action').textContent = custom.operatorAction ? `What to do: ${custom.operatorAction}` : '';
    $('attention').hidden = !failure && !custom.operatorAction;
  }

  function renderTransfer(run) {
    const t = (run.customStatus || {}).transfer;
    $('transfer').hidden = !t;
    if (!t) { return; }
    const progress = $('transfer-progress');
    if (t.tablesTotal > 0) {
      progress.max = t.tablesTotal;
      progress.value = t.tablesDone;
    } else {
      progress.removeAttribute('value');
    }
    if (t.phase === 'done') { progress.max = 1; progress.value = 1; }
    const tables = t.tablesTotal > 0 ? `${t.tablesDone} of ${t.tablesTotal} tables, ` : '';
    const moved = t.bytesTotal > 0
      ? `${bytes(t.bytesMoved)} of ${bytes(t.bytesTotal)} (${Math.floor(t.bytesMoved * 100 / t.bytesTotal)} %)`
      : bytes(t.bytesMoved);
    const rate = typeof t.mbPerSecond === 'number' ? `, ${t.mbPerSecond.toFixed(1)} MB/s` : '';
    const eta = typeof t.secondsRemaining === 'number' && t.estimatedFinishAt
      ? `, about ${remaining(t.secondsRemaining)} left (ETA ${when(t.estimatedFinishAt)})`
      : '';
    $('transfer-text').textContent = `${t.mode}: ${t.phase} — ${tables}${moved}${rate}${eta}, updated ${when(t.updatedAt)}${t.error ? ` — ${t.error}` : ''}`;
  }

  // The copy's time left as a person reads it (the estimate covers the copy; index builds follow it).
  function remaining(seconds) {
    const minutes = Math.floor((seconds + 30) / 60);
    if (seconds < 90) { return `${seconds} s`; }
    if (seconds < 90 * 60) { return `${minutes} min`; }
    return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
  }

  function renderTimeline(run) {
    const steps = (run.customStatus || {}).steps || [];
    fill($('timeline-body'), steps.length === 0 ? [row([{ text: 'No steps yet.' }, '', '', '', '', ''])] : steps.map((step) => {
      const attempts = step.attempts || [];
      let attemptsCell = '1';
      if (attempts.length > 0) {
        const details = document.createElement('details');
        details.appendChild(el('summary', `${attempts.length + 1} (${attempts.length} failed)`));
        const list = document.createElement('ul');
        for (const a of attempts) { list.appendChild(el('li', `#${a.attempt} ${a.activity} failed ${when(a.failedAt)}: ${a.reason}; retry at ${when(a.retryAt)}`)); }
        details.appendChild(list);
        attemptsCell = details;
      }
      const tr = row([step.name, { text: step.outcome, className: `outcome ${step.outcome} nowrap` }, { text: when(step.startedAt), className: 'nowrap' },
        { text: duration(step.startedAt, step.endedAt), className: 'nowrap' }, attemptsCell, step.detail]);
      if (!step.endedAt) { tr.cells[3].dataset.runningSince = step.startedAt; }
      return tr;
    }));
  }

  // A running step's duration grows between refreshes even when the status itself has not changed.
  function tickDurations() {
    for (const cell of document.querySelectorAll('#timeline-body td[data-running-since]')) {
      cell.textContent = duration(cell.dataset.runningSince, null);
    }
  }

  function renderParity(run) {
    const parity = (run.customStatus || {}).parity;
    $('parity').hidden = !parity;
    if (!parity) { return; }
    $('parity-verdict').textContent = `Verdict: ${parity.verdict}${parity.rowsOmitted ? ` (${parity.rowsOmitted} rows not shown)` : ''} — live ${parity.liveDatabase}, restored ${parity.restoredDatabase}`;
    fill($('parity-body'), (parity.rows || []).map((r) =>
      row([r.table, { text: count(r.liveCount), className: 'num' }, { text: count(r.restoredCount), className: 'num' }, { text: r.verdict, className: `verdict ${String(r.verdict).toLowerCase()}` }, r.note])));
  }

  function renderDecisions(run) {
    const decisions = (run.customStatus || {}).decisions || [];
    $('decisions').hidden = decisions.length === 0;
    fill($('decisions-body'), decisions.map((d) => row([when(d.at), d.by, d.decision, d.accepted ? 'accepted' : 'refused', d.note])));
  }

  // The change report: the status's summary (customStatus.changes) and, when the API has one, the full report with its
  // sampled keys (GET /api/restores/{id}/changes, 404 while there is none).
  async function loadChanges(run) {
    const summary = (run.customStatus || {}).changes || null;
    let full = null;
    try {
      const response = await api(`/api/restores/${encodeURIComponent(run.instanceId)}/changes`);
      if (response.ok) { full = await response.json(); }
    } catch (e) {
      if (e instanceof Unauthorized) { throw e; }
    }
    return { summary, full };
  }

  function tablesOf(changes) {
    if (changes.full && Array.isArray(changes.full.tables)) {
      return changes.full.tables.filter((t) => t.onlyInLive > 0 || t.onlyInCopy > 0 || t.different > 0 || t.matchedBy === 'only in live' || t.matchedBy === 'only in copy');
    }
    return changes.summary && Array.isArray(changes.summary.tables) ? changes.summary.tables : [];
  }

  function keysText(keys) {
    return (keys || []).map((k) => `(${[].concat(k).map((v) => (v === null ? 'NULL' : String(v))).join(', ')})`).join(' ');
  }

  function renderChanges(run, changes) {
    const body = $('changes-body');
    const json = JSON.stringify(changes);
    if (json === state.lastChanges) { return; }
    state.lastChanges = json;
    body.replaceChildren();
    const { summary, full } = changes;
    if (!summary && !full) {
      body.appendChild(el('p', 'No change report yet.', 'empty'));
      return;
    }
    const totals = full
      ? { onlyInLive: sum(full.tables, 'onlyInLive'), onlyInCopy: sum(full.tables, 'onlyInCopy'), different: sum(full.tables, 'different'), compared: full.tables.length, partial: full.partial, seconds: full.seconds }
      : { onlyInLive: summary.onlyInLive, onlyInCopy: summary.onlyInCopy, different: summary.different, compared: summary.tablesCompared, partial: summary.partial, seconds: summary.seconds };
    const dl = el('dl', null, 'facts totals');
    fact(dl, 'Tables compared', count(totals.compared));
    fact(dl, 'Only in live — written after T, leave with the cutover', count(totals.onlyInLive));
    fact(dl, 'Only in the copy — deleted after T, come back', count(totals.onlyInCopy));
    fact(dl, 'Different', count(totals.different));
    if (typeof totals.seconds === 'number') { fact(dl, 'Compared in', `${totals.seconds.toFixed(1)} s`); }
    if (full) {
      fact(dl, 'Live database', full.liveDatabase);
      fact(dl, 'Restored copy', full.copyDatabase);
      fact(dl, 'Rows written after T are kept in', full.keptDatabase);
    }
    body.appendChild(dl);
    if (totals.partial) {
      body.appendChild(el('p', 'Partial: the comparison ran out of time before every table was compared; the counts are those seen so far.', 'warn-text'));
    }

    const tables = tablesOf(changes);
    if (tables.length === 0) {
      body.appendChild(el('p', 'No table differs: the cutover changes no rows.'));
    } else {
      const table = document.createElement('table');
      table.appendChild(el('caption', 'Changed tables, most changed first'));
      const head = document.createElement('thead');
      const headRow = document.createElement('tr');
      for (const [text, num] of [['Table', false], ['Matched by', false], ['Only in live (leave)', true], ['Only in copy (come back)', true], ['Different', true], ['Sampled keys', false]]) {
        const th = el('th', text, num ? 'num' : undefined);
        th.scope = 'col';
        headRow.appendChild(th);
      }
      head.appendChild(headRow);
      table.appendChild(head);
      const tbody = document.createElement('tbody');
      for (const t of tables) {
        let samples = '';
        if (t.samples) {
          const parts = [];
          if ((t.samples.onlyInLive || []).length > 0) { parts.push(`only in live: ${keysText(t.samples.onlyInLive)}`); }
          if ((t.samples.onlyInCopy || []).length > 0) { parts.push(`only in copy: ${keysText(t.samples.onlyInCopy)}`); }
          if ((t.samples.different || []).length > 0) { parts.push(`different: ${keysText(t.samples.different)}`); }
          samples = parts.join('; ') + (t.samplesTruncated ? ' …' : '');
          if (t.keyColumns && t.keyColumns.length > 0 && samples) { samples = `key (${t.keyColumns.join(', ')}) — ${samples}`; }
        }
        tbody.appendChild(row([t.table, t.matchedBy, { text: count(t.onlyInLive), className: 'num' }, { text: count(t.onlyInCopy), className: 'num' },
          { text: count(t.different), className: 'num' }, `${samples}${t.partial ? ' (partial)' : ''}`]));
      }
      table.appendChild(tbody);
      body.appendChild(table);
      if (!full && summary.tablesOmitted > 0) {
        body.appendChild(el('p', `${summary.tablesOmitted} more changed tables are in the full report.`, 'muted'));
      }
    }
    renderPrivileges(body, summary, full);
    if (full && typeof full.note === 'string') { body.appendChild(el('p', full.note, 'muted')); }
    if (full) {
      const link = el('a', 'Download the sampled keys (CSV)');
      link.href = `/api/restores/${encodeURIComponent(run.instanceId)}/changes.csv`;
      link.id = 'changes-csv';
      link.addEventListener('click', downloadCsv);
      const p = el('p');
      p.appendChild(link);
      body.appendChild(p);
    }
  }

  // The copy's owners and privileges against live's (the copy was given live's: a difference means that did not take).
  function renderPrivileges(body, summary, full) {
    const p = full && full.privileges ? full.privileges : null;
    const differences = p ? (p.differences || []) : null;
    const count = differences ? differences.length : summary && typeof summary.privilegeDifferences === 'number' ? summary.privilegeDifferences : null;
    if (count === null) { return; }
    const text = count === 0
      ? `Owners and privileges: the same as live's${p ? ` (${p.objectsCompared} objects compared)` : ''}.`
      : `Owners and privileges: ${count} object${count === 1 ? ' differs' : 's differ'} from live's${p ? ` (of ${p.objectsCompared} compared)` : ''}.`;
    body.appendChild(el('p', text, count === 0 ? undefined : 'warn-text'));
    if (!differences || differences.length === 0) { return; }
    const table = document.createElement('table');
    table.id = 'privileges-table';
    table.appendChild(el('caption', 'Objects whose owner or privileges differ'));
    const head = document.createElement('thead');
    const headRow = document.createElement('tr');
    for (const text of ['Kind', 'Object', 'Live owner', 'Copy owner', 'Live privileges', 'Copy privileges']) {
      const th = el('th', text);
      th.scope = 'col';
      headRow.appendChild(th);
    }
    head.appendChild(headRow);
    table.appendChild(head);
    const tbody = document.createElement('tbody');
    for (const d of differences) { tbody.appendChild(row([d.kind, d.object, d.liveOwner, d.copyOwner, d.liveAcl, d.copyAcl])); }
    table.appendChild(tbody);
    body.appendChild(table);
  }

  function sum(tables, field) { return (tables || []).reduce((total, t) => total + (typeof t[field] === 'number' ? t[field] : 0), 0); }

  // The CSV needs the API key on the embedded host, which a plain link would not send: fetch it, then save it.
  async function downloadCsv(event) {
    event.preventDefault();
    const href = event.currentTarget.getAttribute('href');
    try {
      const response = await api(href, { headers: { Accept: 'text/csv' } });
      if (!response.ok) { throw new Error(await problemText(response, 'Could not download the CSV')); }
      const url = URL.createObjectURL(await response.blob());
      const save = document.createElement('a');
      save.href = url;
      save.download = `${state.runId}-changes.csv`;
      document.body.appendChild(save);
      save.click();
      save.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      announce('Change report CSV downloaded.');
    } catch (e) {
      if (e instanceof Unauthorized) { askToSignIn(e.message); return; }
      $('run-error').textContent = e.message;
    }
  }

  async function refreshRun() {
    stopTimer();
    const ticket = takeTicket();
    let active = false;
    try {
      const response = await api(`/api/restores/${encodeURIComponent(state.runId)}`);
      if (response.status === 404) {
        if (!superseded(ticket)) { $('run-error').textContent = `No run with id ${state.runId}.`; }
        return;
      }
      if (!response.ok) { throw new Error(await problemText(response, 'Could not read the run')); }
      const run = await response.json();
      const changes = await loadChanges(run);
      if (superseded(ticket)) { return; }
      $('run-error').textContent = '';
      active = ACTIVE.includes(run.runtimeStatus);
      const json = JSON.stringify(run);
      if (json !== state.lastJson) {
        state.lastJson = json;
        state.run = run;
        renderState(run);
        renderSummary(run);
        renderAttention(run);
        renderTransfer(run);
        renderTimeline(run);
        renderParity(run);
        renderDecisions(run);
      }
      tickDurations();
      renderDecision(run);
      renderChanges(run, changes);
    } catch (e) {
      if (superseded(ticket)) { return; }
      if (e instanceof Unauthorized) { askToSignIn(e.message); return; }
      $('run-error').textContent = e.message;
      active = true;
    }
    if (active) { schedule(refreshRun, RUN_REFRESH_MS); }
  }

  // ---- drills --------------------------------------------------------------------------------------------------

  const SVG = 'http://www.w3.org/2000/svg';
  // Distinct on white and for the common colour-vision deficiencies; each tenant's points also differ by shape.
  const PALETTE = ['#0b5cad', '#b3590b', '#146c2e', '#7b2d8e', '#a4161a', '#00676b', '#5c5c00', '#4f5862'];

  function svg(tag, attributes, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes || {})) { node.setAttribute(name, String(value)); }
    if (text !== undefined) { node.textContent = String(text); }
    return node;
  }

  function seconds(n) { return typeof n === 'number' ? (n < 60 ? `${n.toFixed(1)} s` : `${Math.floor(n / 60)} min ${Math.round(n % 60)} s`) : ''; }

  async function showDrills() {
    show('drills');
    document.title = 'Restore drills · RcmPitr';
    await refreshDrills();
  }

  async function refreshDrills() {
    stopTimer();
    const ticket = takeTicket();
    try {
      const response = await api('/api/drills');
      const problem = response.ok ? null : await problemText(response, 'Could not list drills.');
      const drills = response.ok ? await response.json() : null;
      if (superseded(ticket)) { return; }
      if (problem !== null) { $('drills-error').textContent = problem; return; }
      $('drills-error').textContent = '';
      fill($('drills-body'), drills.map((d) => {
        const link = el('a', d.id);
        link.href = `/drills/${encodeURIComponent(d.id)}`;
        return row([link, d.runtimeStatus, when(d.restoreTime), count(d.tenants),
          { text: count(d.passed), className: d.passed > 0 ? 'ok' : '' }, { text: count(d.failed), className: d.failed > 0 ? 'bad' : '' }, when(d.createdTime)]);
      }));
      if (drills.length === 0) { fill($('drills-body'), [row([{ text: 'No drill yet. Start one with rcm-pitr drill run, or wait for the schedule (DryRunSchedule).' }])]); }
      schedule(refreshDrills, LIST_REFRESH_MS);
    } catch (e) {
      if (superseded(ticket)) { return; }
      if (e instanceof Unauthorized) { askToSignIn(e.message); } else { $('drills-error').textContent = `Could not reach the API: ${e.message}`; }
    }
  }

  async function showDrill(id) {
    show('drill');
    state.drillId = id;
    $('drill-title').textContent = `Drill ${id}`;
    document.title = `Drill ${id} · RcmPitr`;
    await refreshDrill();
  }

  async function refreshDrill() {
    stopTimer();
    const ticket = takeTicket();
    const id = state.drillId;
    try {
      const response = await api(`/api/drills/${encodeURIComponent(id)}`);
      const failed = !response.ok && response.status !== 202;
      const problem = failed ? await problemText(response, 'Could not read the drill.') : null;
      const report = failed ? null : await response.json();
      if (superseded(ticket)) { return; }
      if (problem !== null) { $('drill-error').textContent = problem; return; }
      $('drill-error').textContent = '';
      renderDrill(report);
      if (response.status === 202) { schedule(refreshDrill, RUN_REFRESH_MS); }
    } catch (e) {
      if (superseded(ticket)) { return; }
      if (e instanceof Unauthorized) { askToSignIn(e.message); } else { $('drill-error').textContent = `Could not reach the API: ${e.message}`; }
    }
  }

  function renderDrill(report) {
    const summary = $('drill-summary');
    summary.replaceChildren();
    const running = ACTIVE.includes(report.runtimeStatus);
    fact(summary, 'Status', running ? `${report.runtimeStatus}: the report is written when every tenant's dry run has ended` : report.runtimeStatus);
    fact(summary, 'Restore time', when(report.restoreTime));
    fact(summary, 'Started', when(report.createdTime));
    fact(summary, 'Duration', duration(report.createdTime, report.endedTime));
    fact(summary, 'Requested by', report.requestedBy);
    fact(summary, 'Verdict', running ? '' : `${report.passed} passed, ${report.failed} failed`);
    if (report.detail) { fact(summary, 'Detail', report.detail); }

    fill($('drill-results'), report.tenants.map((t) => row([
      t.tenant,
      { text: t.passed ? 'Passed' : 'Failed', className: t.passed ? 'ok' : 'bad' },
      seconds(t.seconds),
      bytes(t.bytesMoved),
      t.parity || '',
      t.reference ? `${t.reference.kind}${t.reference.againstDrill ? ` (${t.reference.againstDrill})` : ''}` : '',
      t.reason,
    ])));
    fill($('drill-phases'), report.tenants.flatMap((t) => (t.phases || []).map((p) => row([t.tenant, p.name, seconds(p.seconds), p.outcome]))));
    fill($('drill-history'), (report.history || []).map((h) => row([h.tenant, h.drillId, when(h.restoreTime), seconds(h.seconds), { text: h.passed ? 'Passed' : 'Failed', className: h.passed ? 'ok' : 'bad' }])));
    renderChart(report.history || []);
  }

  // One line per tenant: its restore duration at each drill (oldest left). A failed drill is a hollow point.
  function renderChart(history) {
    const figure = $('drill-chart');
    const drills = [...new Map(history.slice().sort((a, b) => new Date(a.recordedAt) - new Date(b.recordedAt)).map((h) => [h.drillId, h])).keys()];
    const tenants = [...new Set(history.map((h) => h.tenant))].sort();
    const points = history.filter((h) => typeof h.seconds === 'number');
    if (points.length === 0) {
      figure.replaceChildren(el('p', 'No durations recorded yet.', 'muted'));
      $('drill-chart-note').textContent = '';
      return;
    }

    const width = 720, height = 260, left = 56, right = 16, top = 12, bottom = 40;
    const max = Math.max(...points.map((p) => p.seconds)) * 1.1 || 1;
    const x = (i) => left + (drills.length === 1 ? (width - left - right) / 2 : (i * (width - left - right)) / (drills.length - 1));
    const y = (v) => top + (height - top - bottom) * (1 - v / max);
    const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', 'aria-labelledby': 'drill-chart-label', focusable: 'false' });
    chart.appendChild(svg('title', { id: 'drill-chart-label' },
      `Restore duration in seconds of ${tenants.length} tenant(s) over ${drills.length} drill(s); the table below has every value.`));
    for (let k = 0; k <= 4; k++) {
      const v = (max * k) / 4;
      chart.appendChild(svg('line', { x1: left, x2: width - right, y1: y(v), y2: y(v), class: 'grid' }));
      chart.appendChild(svg('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, seconds(v)));
    }
    drills.forEach((d, i) => chart.appendChild(svg('text', { x: x(i), y: height - bottom + 16, 'text-anchor': 'middle', class: 'tick' }, `#${i + 1}`)));
    chart.appendChild(svg('text', { x: left, y: height - 6, class: 'tick' }, 'drills, oldest first'));

    const legend = el('ul', null, 'legend');
    tenants.forEach((tenant, t) => {
      const color = PALETTE[t % PALETTE.length];
      const mine = points.filter((p) => p.tenant === tenant).map((p) => ({ i: drills.indexOf(p.drillId), p })).sort((a, b) => a.i - b.i);
      if (mine.length > 1) {
        chart.appendChild(svg('polyline', { points: mine.map(({ i, p }) => `${x(i)},${y(p.seconds)}`).join(' '), fill: 'none', stroke: color, 'stroke-width': 2 }));
      }
      for (const { i, p } of mine) {
        const attrs = { cx: x(i), cy: y(p.seconds), r: 4 + (t % 3), stroke: color, 'stroke-width': 2, fill: p.passed ? color : '#ffffff', class: 'point' };
        const dot = svg('circle', attrs);
        dot.appendChild(svg('title', {}, `${tenant}, drill ${p.drillId}: ${seconds(p.seconds)}, ${p.passed ? 'passed' : 'failed'}`));
        chart.appendChild(dot);
      }
      const item = el('li');
      const swatch = el('span', null, 'swatch');
      swatch.style.background = color;
      item.append(swatch, el('span', tenant));
      legend.appendChild(item);
    });
    figure.replaceChildren(chart, legend);
    const slower = tenants.filter((tenant) => {
      const mine = points.filter((p) => p.tenant === tenant);
      return mine.length >= 2 && mine[mine.length - 1].seconds > mine[mine.length - 2].seconds * 1.25;
    });
    $('drill-chart-note').textContent = slower.length > 0
      ? `Slower by more than 25 % than at their previous drill: ${slower.join(', ')}. Hollow points are failed drills.`
      : 'Hollow points are failed drills.';
  }

  // ---- routing -------------------------------------------------------------------------------------------------

  async function route() {
    stopTimer();
    state.lastJson = null;
    state.lastChanges = null;
    const path = window.location.pathname;
    const run = /^\/runs\/([^/]+)\/?$/.exec(path);
    const drill = /^\/drills\/([^/]+)\/?$/.exec(path);
    if (run) {
      await showRun(decodeURIComponent(run[1]));
    } else if (drill) {
      await showDrill(decodeURIComponent(drill[1]));
    } else if (/^\/drills\/?$/.test(path)) {
      await showDrills();
    } else {
      await showList();
    }
  }

  async function start() {
    $('signin-form').addEventListener('submit', signIn);
    $('sign-out').addEventListener('click', signOut);
    $('list-refresh').addEventListener('click', () => { state.lastJson = null; refreshList(); });
    $('run-refresh').addEventListener('click', () => { state.lastJson = null; state.lastChanges = null; refreshRun(); });
    $('drills-refresh').addEventListener('click', () => refreshDrills());
    $('drill-refresh').addEventListener('click', () => refreshDrill());
    $('approve').addEventListener('click', () => decide('approve'));
    $('reject').addEventListener('click', () => decide('reject'));
    $('decide-form').addEventListener('submit', (e) => e.preventDefault());
    try {
      await loadMe();
    } catch (e) {
      askToSignIn(e instanceof Unauthorized ? e.message : `Could not reach the API: ${e.message}`);
      return;
    }
    await route();
  }

  document.addEventListener('DOMContentLoaded', start);
})();

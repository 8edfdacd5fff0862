// The execution page's behaviour: selecting a state shows its details beside the graph, the page keeps
// itself up to date while the execution runs, and (with actions enabled) the stop and redrive buttons.
// Plain script, no build step: the server renders every part, and this only swaps the parts marked
// data-live for the server's newer rendering of them.

(() => {
  const root = document.querySelector('.execution');
  if (!root) return;

  const panel = document.getElementById('state-panel');
  // What the server last rendered of each live part, read before this script changes any of them: a refresh
  // swaps only the parts that changed, so a click on a link in one that did not is never lost to a swap.
  const rendered = new Map(
    [...document.querySelectorAll('[data-live]')].map((live) => [live.id, live.outerHTML]),
  );
  const pollMs = Number(root.dataset.pollMs) || 1500;
  const MAX_BACKOFF_MS = 15000;
  let selected = null;
  let running = root.dataset.running === 'true';
  let timer = null;
  let failures = 0;

  // --- the state panel -------------------------------------------------------------------------------

  function detailsOf(name) {
    return [...document.querySelectorAll('#state-details .state-detail')].find(
      (element) => element.dataset.state === name,
    );
  }

  function renderPanel() {
    for (const node of document.querySelectorAll('#graph a.node')) {
      const isSelected = node.dataset.state === selected;
      node.classList.toggle('selected', isSelected);
      if (isSelected) node.setAttribute('aria-current', 'true');
      else node.removeAttribute('aria-current');
    }
    const heading = panel.querySelector('h3');
    panel.replaceChildren(heading);
    if (selected === null) {
      const hint = document.createElement('p');
      hint.className = 'hint';
      hint.textContent = 'Select a state in the graph to see its input, output, error and timing.';
      panel.append(hint);
      return;
    }
    const title = document.createElement('p');
    title.className = 'panel-state';
    const strong = document.createElement('strong');
    strong.textContent = selected;
    title.append(strong);
    panel.append(title);
    const details = detailsOf(selected);
    if (!details) {
      const note = document.createElement('p');
      note.textContent = 'Not reached in this execution.';
      panel.append(note);
      return;
    }
    const status = details.querySelector('summary .state-status');
    if (status) title.append(' ', status.cloneNode(true));
    const body = details.querySelector('.state-detail-body');
    if (body) panel.append(body.cloneNode(true));
  }

  function select(name, anchor) {
    selected = name;
    if (anchor) history.replaceState(null, '', anchor);
    renderPanel();
  }

  root.addEventListener('click', (event) => {
    const node = event.target.closest('#graph a.node');
    if (!node) return;
    event.preventDefault();
    select(node.dataset.state, node.getAttribute('href'));
  });

  // A link to a state's details (#state-…) opens it where it is, and in the panel.
  function selectFromHash() {
    const id = decodeURIComponent(location.hash.slice(1));
    if (!id) return;
    const details = document.getElementById(id);
    if (details?.classList.contains('state-detail')) {
      details.open = true;
      select(details.dataset.state);
    }
  }
  window.addEventListener('hashchange', selectFromHash);
  selectFromHash();

  // --- live updates -------------------------------------------------------------------------------------

  const liveNote = document.createElement('p');
  liveNote.className = 'live-note';
  liveNote.setAttribute('role', 'status');
  root.querySelector('h1')?.after(liveNote);

  function showLiveNote() {
    liveNote.textContent = running ? `Following this execution live (every ${pollMs / 1000} s).` : '';
  }

  async function refresh() {
    const response = await fetch(root.dataset.liveUrl, {
      headers: { accept: 'text/html' },
      cache: 'no-store',
    });
    if (!response.ok) throw new Error(`the console answered ${response.status}`);
    const fresh = new DOMParser().parseFromString(await response.text(), 'text/html');
    const openEvents = new Set(
      [...document.querySelectorAll('#history details[open]')].map((element) => element.dataset.event),
    );
    const openStates = new Set(
      [...document.querySelectorAll('#state-details details[open]')].map((element) => element.dataset.state),
    );
    const focused = document.activeElement?.closest?.('#graph a.node')?.dataset.state;
    for (const live of document.querySelectorAll('[data-live]')) {
      const replacement = fresh.getElementById(live.id);
      if (!replacement || rendered.get(live.id) === replacement.outerHTML) continue;
      rendered.set(live.id, replacement.outerHTML);
      live.replaceWith(document.importNode(replacement, true));
    }
    for (const element of document.querySelectorAll('#history details')) {
      if (openEvents.has(element.dataset.event)) element.open = true;
    }
    for (const element of document.querySelectorAll('#state-details details')) {
      if (openStates.has(element.dataset.state)) element.open = true;
    }
    if (focused !== undefined) {
      [...document.querySelectorAll('#graph a.node')].find((node) => node.dataset.state === focused)?.focus();
    }
    renderPanel();
    running = fresh.querySelector('.execution')?.dataset.running === 'true';
    root.dataset.running = String(running);
    showLiveNote();
  }

  function schedule(delay = pollMs) {
    clearTimeout(timer);
    if (!running || document.hidden) return;
    timer = setTimeout(async () => {
      try {
        await refresh();
        failures = 0;
        schedule();
      } catch (error) {
        failures += 1;
        liveNote.textContent = `Could not refresh (${error.message}); trying again.`;
        schedule(Math.min(pollMs * 2 ** failures, MAX_BACKOFF_MS));
      }
    }, delay);
  }

  document.addEventListener('visibilitychange', () => schedule(0));
  showLiveNote();
  schedule();

  // --- stop and redrive -----------------------------------------------------------------------------------

  function actionStatus(text) {
    const element = document.querySelector('#actions .action-status');
    if (element) element.textContent = text;
  }

  root.addEventListener('click', async (event) => {
    const button = event.target.closest('#actions button[data-action]');
    if (!button) return;
    if (!window.confirm(button.dataset.confirm)) return;
    const action = button.dataset.action;
    button.disabled = true;
    actionStatus('Working…');
    try {
      const response = await fetch(button.dataset.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: '{}',
      });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(answer.message || `the console answered ${response.status}`);
      await refresh();
      actionStatus(action === 'stop' ? 'Stopped.' : 'Redriven: following it again.');
      schedule();
    } catch (error) {
      button.disabled = false;
      actionStatus(`Could not ${action}: ${error.message}`);
    }
  });
})();

// The forms that act (a decision on a payment, a dead-letter redrive): they work without this script; it asks
// before sending (data-confirm) and keeps a second click from sending the same form again.
(() => {
  for (const form of document.querySelectorAll('form[data-confirm]')) {
    form.addEventListener('submit', (event) => {
      if (form.dataset.sent === 'true' || !window.confirm(form.dataset.confirm)) {
        event.preventDefault();
        return;
      }
      form.dataset.sent = 'true';
      for (const button of form.querySelectorAll('button[type="submit"]')) button.disabled = true;
    });
  }
})();

// The customer page. One top-up at a time: its Idempotency-Key and request body go into sessionStorage
// before the first request is sent and stay there until the top-up reaches a final outcome. A POST whose
// answer is lost, a server error, or a reload therefore sends the same key and body again, and the server
// replays its first answer: the page finds the payment it already made instead of paying twice. Once the
// payment is known, its id and status token are stored too, so a reload reconnects to its events.
// Plain browser JavaScript, no build step.

const STORAGE_KEY = 'payment-to-vend/top-up';
const LIMITS_PENCE = { min: 1000, max: 17500 };
/** Events that end the payment: nothing more happens to it. */
const FINAL = new Set(['vended', 'charge_declined', 'refunded']);
/**
 * The payment is open until an operator decides how to end it (re-vend, a UTRN, a refund; for an unknown charge,
 * the bank's answer): the customer may start another top-up, but we keep following, to show how it ends.
 */
const FINAL_FOR_NOW = new Set(['charge_unconfirmed', 'vend_failed']);
const BACKOFF = { firstMs: 500, maxMs: 10_000 };

const form = document.querySelector('#top-up');
const fields = document.querySelector('#top-up-fields');
const payButton = document.querySelector('#pay');
const formError = document.querySelector('#form-error');
const progress = document.querySelector('#progress');
const referenceLine = document.querySelector('#reference');
const connection = document.querySelector('#connection');
const timeline = document.querySelector('#timeline');
const outcome = document.querySelector('#outcome');
const outcomeTitle = document.querySelector('#outcome-title');
const outcomeText = document.querySelector('#outcome-text');
const topUpAgain = document.querySelector('#top-up-again');

const INPUTS = { meterId: form.meterId, amountPence: form.amount, paymentToken: form.card };
const DEFAULT_AMOUNT = form.amount.value;

// ---------------------------------------------------------------------------------------------------------
// The stored top-up: { idempotencyKey, body, mayExist, accepted?: { paymentId, statusToken, eventsUrl },
// events: [...] }. `mayExist` is set once a request may have reached the server without us reading its
// answer: from then on only a definite answer for this key may release it.

/** Used when sessionStorage is unavailable (some private modes): a lost answer is still retried. */
let memoryCopy = null;

function loadTopUp() {
  try {
    const text = sessionStorage.getItem(STORAGE_KEY);
    if (text === null) return memoryCopy;
    const topUp = JSON.parse(text);
    if (typeof topUp?.idempotencyKey === 'string' && topUp.body && Array.isArray(topUp.events)) return topUp;
    sessionStorage.removeItem(STORAGE_KEY);
    return null;
  } catch {
    return memoryCopy;
  }
}

function saveTopUp(topUp) {
  memoryCopy = topUp;
  try {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(topUp));
  } catch {
    // The in-memory copy still covers retries within this page.
  }
}

function clearTopUp() {
  memoryCopy = null;
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Nothing was stored.
  }
}

// ---------------------------------------------------------------------------------------------------------
// Words.

const pounds = (pence) => `£${(pence / 100).toFixed(2)}`;

/** 20 digits in groups of four, as meters and in-home displays ask for them. */
const groupedUtrn = (utrn) => String(utrn).replace(/(\d{4})(?=\d)/g, '$1 ');

const EMERGENCY_CREDIT =
  'If you are running low meanwhile, you can use your meter’s emergency credit: it is there so you are never cut off while we fix this.';

const DECLINES = {
  generic_decline: 'Your bank declined the payment.',
  insufficient_funds: 'Your bank declined the payment: there were not enough funds.',
  lost_card: 'Your bank declined this card because it has been reported lost.',
  stolen_card: 'Your bank declined this card because it has been reported stolen.',
  expired_card: 'This card has expired.',
  invalid_payment_token: 'We could not use the card details you gave.',
  charge_request_refused: 'The payment could not be processed with the card details you gave.',
  no_charge_at_gateway: 'We have checked with our payment provider: the payment never went through.',
};

const DECLINE_ADVICE = {
  lost_card: 'Please use another card, and contact your bank if you still have this one.',
  stolen_card: 'Please use another card, and contact your bank if you still have this one.',
  expired_card: 'Please use another card.',
  invalid_payment_token: 'Please enter your card again, or use another card.',
  charge_request_refused: 'Please enter your card again, or use another card.',
  no_charge_at_gateway: 'You can top up again now.',
};

/** What went wrong with the credit, and what the customer should do, for each meter rejection. */
const REJECTIONS = {
  NOT_FOR_THIS_DEVICE: (body) => [
    'The meter did not accept the credit because it was made out for a different meter.',
    `Please check the meter number you gave, ${body.meterId}, against the 13-digit MPAN core on your bill or on the meter. We will move the credit to your meter or refund you.`,
  ],
  DUPLICATE_UTRN: () => [
    'Your meter says it has already received this credit.',
    'Check the balance on your meter or in-home display: the credit may already be there. If it is not, we will send it again or refund you.',
  ],
  NOT_AUTHENTIC: () => [
    'Your meter could not check that the credit came from us.',
    'You do not need to do anything: we will send the credit again or refund you.',
  ],
  EXCEEDS_MAX_CREDIT_THRESHOLD: () => [
    'This top-up is more than your meter accepts in one go.',
    'We will send the credit in smaller amounts or refund you. Next time, a smaller top-up will go straight through.',
  ],
  EXCEEDS_MAX_METER_BALANCE: () => [
    'Your meter already holds nearly as much credit as it can.',
    'We will add the credit once there is room, or refund you.',
  ],
  METER_LOCKED_OUT: () => [
    'Your meter is locked after too many wrong credit codes.',
    'Please do not key in any more codes. We will help you unlock it and then send your credit, or refund you.',
  ],
};

/** One line of the timeline, and its tone; null for events the customer need not see. */
function timelineLine(event, state) {
  switch (event.type) {
    case 'accepted':
      return ['We have your top-up request.', ''];
    case 'charged':
      return [`Payment of ${pounds(event.amountPence ?? state.body.amountPence)} taken.`, ''];
    case 'charge_declined':
      return isUnconfirmedDecline(event)
        ? ['We could not confirm your payment with your bank.', 'wait']
        : ['Payment declined: nothing was taken.', 'bad'];
    case 'charge_unconfirmed':
      return ['We could not confirm your payment with your bank yet.', 'wait'];
    case 'vend_requested':
      return ['Sending the credit to your meter…', 'wait'];
    case 'vend_retrying':
      return [
        `The meter service is busy, so we are trying again (attempt ${event.attempt} of ${event.maxAttempts}).`,
        'wait',
      ];
    case 'vended':
      return ['Credit sent to your meter.', ''];
    case 'vend_failed':
      return ['We could not credit your meter.', 'bad'];
    case 'refunded':
      return ['Payment refunded.', ''];
    default:
      return null;
  }
}

// The workflow used to report an unknown charge outcome as a decline; never tell that customer "nothing was taken".
const isUnconfirmedDecline = (event) =>
  event.type === 'charge_declined' && event.reason === 'charge_not_confirmed';

/**
 * The outcome box for an event that ends the top-up (or ends it for now): its title, paragraphs, the
 * UTRN to show, and whether the payment reference must be quoted.
 */
function outcomeOf(event, state) {
  const paid = pounds(state.chargedPence ?? state.body.amountPence);
  switch (event.type) {
    case 'vended':
      return {
        tone: '',
        title: 'Your top-up is done',
        paragraphs: [
          `${pounds(event.creditPence ?? state.body.amountPence)} of credit is on its way to your meter. It usually arrives within a few minutes.`,
          'If it has not arrived within 30 minutes, key this 20-digit code into your meter or in-home display:',
        ],
        utrn: event.utrn,
      };
    case 'charge_declined': {
      if (isUnconfirmedDecline(event)) return outcomeOf({ ...event, type: 'charge_unconfirmed' }, state);
      return {
        tone: 'bad',
        title: 'Your payment was declined',
        paragraphs: [
          `${DECLINES[event.reason] ?? 'The payment was declined.'} Nothing was taken from your account and your meter has not been topped up.`,
          DECLINE_ADVICE[event.reason] ?? 'You can try again with another card, or contact your bank.',
        ],
        quote: true,
      };
    }
    case 'charge_unconfirmed':
      return {
        tone: 'wait',
        title: 'We could not confirm your payment',
        paragraphs: [
          'We could not find out from your bank whether your payment went through. We are checking it now.',
          'Please do not pay again for this top-up. We will update this page as soon as we know; if money was taken, the credit will reach your meter or you will be refunded, and we will contact you if we need to.',
        ],
        quote: true,
      };
    case 'vend_failed': {
      const [what, todo] =
        event.reason === 'VendRejected'
          ? (REJECTIONS[event.rejectionCode]?.(state.body) ?? [
              'Your meter did not accept the credit.',
              'We will send it again or refund you.',
            ])
          : [
              event.reason === 'States.Timeout' || event.reason === 'States.HeartbeatTimeout'
                ? 'The service that sends credit to meters took too long to answer.'
                : 'The service that sends credit to meters could not be reached, even after several tries.',
              'You do not need to do anything: we will send the credit as soon as we can, or refund you.',
            ];
      return {
        tone: 'bad',
        title: 'We took your payment but could not credit your meter',
        paragraphs: [
          `Your card was charged ${paid}. ${what}`,
          `${todo} Our team has been told and will put it right; please do not pay again for this top-up.`,
          EMERGENCY_CREDIT,
        ],
        quote: true,
      };
    }
    case 'refunded':
      return {
        tone: '',
        title: 'Your payment has been refunded',
        paragraphs: [
          `We have refunded ${paid} to your card. It can take a few working days to show on your statement.`,
        ],
        quote: true,
      };
    default:
      return null;
  }
}

/** A person's words for a field the API refused, and which input to point at. */
function refusedField(answer) {
  if (answer.code === 'card_data_refused') {
    return {
      input: null,
      text: 'Card numbers and security codes cannot be sent from this page: please choose your card instead.',
    };
  }
  switch (answer.field) {
    case 'meterId':
      return {
        input: 'meterId',
        text: 'Meter number must be the 13 digits of your MPAN core, and the last digit must match the others: please check it against your bill or meter.',
      };
    case 'amountPence':
      return { input: 'amountPence', text: 'Amount must be between £10 and £175.' };
    case 'paymentToken':
      return { input: 'paymentToken', text: 'We could not use that card: please choose your card again.' };
    default:
      return {
        input: null,
        text: 'Something went wrong sending your payment. Nothing was taken: please try again.',
      };
  }
}

// ---------------------------------------------------------------------------------------------------------
// The form.

/** Whole pence from what the customer typed in pounds, without floating-point rounding; NaN if unreadable. */
function penceFrom(text) {
  const match = /^£?\s*(\d{1,6})(?:\.(\d{1,2}))?$/.exec(text.replace(/,/g, '').trim());
  if (!match) return Number.NaN;
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}

/** The request body from the form, or the problems with it (by body field) when it cannot be sent. */
function readForm() {
  const meterId = form.meterId.value.replace(/\s+/g, '');
  const amountPence = penceFrom(form.amount.value);
  const paymentToken = form.card.value;
  const problems = {};
  if (!/^\d{13}$/.test(meterId)) {
    problems.meterId =
      'Meter number must be 13 digits: the MPAN core on your bill or meter, such as 1600123456785.';
  }
  if (!(amountPence >= LIMITS_PENCE.min && amountPence <= LIMITS_PENCE.max)) {
    problems.amountPence = 'Amount must be between £10 and £175, in pounds (such as 20 or 25.50).';
  }
  if (!paymentToken) problems.paymentToken = 'Choose a card to pay with.';
  return { body: { meterId, amountPence, paymentToken }, problems };
}

const FIELD_NAMES = { meterId: 'the meter number', amountPence: 'the amount', paymentToken: 'the card' };

/** Marks each field with its problem; the summary is read out (role=alert) and points at them. */
function showProblems(problems, summary) {
  let first = null;
  for (const [name, input] of Object.entries(INPUTS)) {
    const message = document.querySelector(`#${input.id}-error`);
    const text = problems[name];
    message.textContent = text ?? '';
    message.hidden = !text;
    if (text) {
      input.setAttribute('aria-invalid', 'true');
      first ??= input;
    } else {
      input.removeAttribute('aria-invalid');
    }
  }
  const names = Object.keys(problems).map((name) => FIELD_NAMES[name]);
  formError.textContent =
    summary ??
    `Please check ${names.join(' and ')}: what is wrong is shown beside ${names.length > 1 ? 'each' : 'it'}.`;
  first?.focus();
}

function lockForm(locked) {
  fields.disabled = locked;
  payButton.textContent = locked ? 'Payment in progress…' : 'Pay and top up';
}

function fillForm(body) {
  form.meterId.value = body.meterId;
  form.amount.value = (body.amountPence / 100).toFixed(2);
  form.card.value = body.paymentToken;
}

// ---------------------------------------------------------------------------------------------------------
// Following one top-up.

/** What this page is doing now; every callback checks it is still current, so a stale one does nothing. */
let current = null;

function newState(topUp) {
  return {
    topUp,
    body: topUp.body,
    socket: null,
    timer: null,
    retryMs: BACKOFF.firstMs,
    failedConnects: 0,
    chargedPence: null,
  };
}

function nextDelay(state) {
  const delay = state.retryMs;
  state.retryMs = Math.min(state.retryMs * 2, BACKOFF.maxMs);
  return delay;
}

function showReference(paymentId) {
  referenceLine.querySelector('.reference').textContent = paymentId;
  referenceLine.hidden = false;
}

async function send(state) {
  const { topUp } = state;
  connection.textContent = topUp.mayExist
    ? 'Checking on the payment you already made…'
    : 'Sending your payment…';
  let response;
  let answer;
  try {
    response = await fetch('/api/payments', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': topUp.idempotencyKey },
      body: JSON.stringify(topUp.body),
    });
    answer = await response.json().catch(() => ({}));
  } catch {
    response = undefined;
  }
  if (state !== current) return;

  const accepted = response?.status === 202;
  if (
    !response ||
    (accepted && (typeof answer.paymentId !== 'string' || typeof answer.eventsUrl !== 'string'))
  ) {
    // No answer we can read: it may have reached us and been taken, so only the same key and body may ask again.
    topUp.mayExist = true;
    saveTopUp(topUp);
    retrySend(
      state,
      'We lost contact while sending your payment. Please do not pay again: we are checking whether it went through…',
    );
    return;
  }
  if (accepted) {
    topUp.accepted = {
      paymentId: answer.paymentId,
      statusToken: answer.statusToken,
      eventsUrl: answer.eventsUrl,
    };
    saveTopUp(topUp);
    connection.textContent = '';
    state.retryMs = BACKOFF.firstMs;
    showReference(answer.paymentId);
    follow(state);
    return;
  }
  if (response.status >= 500) {
    // The payment may have been recorded before the failure; asking again with the same key is safe.
    topUp.mayExist = true;
    saveTopUp(topUp);
    retrySend(state, 'Our service is having trouble. Please do not pay again: we are trying again…');
    return;
  }
  if (response.status === 429 && topUp.mayExist) {
    const waitSeconds = Number(response.headers.get('retry-after')) || 30;
    retrySend(
      state,
      'Our service is busy. Please do not pay again: we are checking on your payment shortly…',
      waitSeconds * 1000,
    );
    return;
  }

  // A definite refusal: no payment exists under this key, so the customer may change the details and pay.
  end(state);
  clearTopUp();
  progress.hidden = true;
  lockForm(false);
  if (response.status === 429) {
    showProblems(
      {},
      'Too many attempts in a short time. Nothing was taken: please wait a minute and try again.',
    );
  } else if (response.status === 422) {
    showProblems(
      {},
      'We could not send this top-up. Nothing was taken: please check the details and try again.',
    );
  } else if (response.status === 400) {
    const refused = refusedField(answer);
    if (refused.input) showProblems({ [refused.input]: refused.text });
    else showProblems({}, refused.text);
  } else {
    showProblems({}, 'Something went wrong sending your payment. Nothing was taken: please try again.');
  }
}

function retrySend(state, message, delayMs = nextDelay(state)) {
  connection.textContent = message;
  state.timer = setTimeout(() => {
    state.timer = null;
    send(state);
  }, delayMs);
}

function follow(state) {
  const { topUp } = state;
  const events = topUp.events;
  const url = new URL(topUp.accepted.eventsUrl, location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('after', String(events.at(-1)?.seq ?? 0));
  const socket = new WebSocket(url);
  state.socket = socket;
  let opened = false;

  socket.onopen = () => {
    opened = true;
    state.failedConnects = 0;
  };
  socket.onmessage = (message) => {
    if (state !== current) return;
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    if (typeof event?.seq !== 'number' || event.seq <= (events.at(-1)?.seq ?? 0)) return;
    state.retryMs = BACKOFF.firstMs;
    connection.textContent = '';
    events.push(event);
    if (FINAL.has(event.type)) {
      // Done: nothing left to find again, and the next top-up needs a key of its own.
      clearTopUp();
      end(state);
    } else {
      saveTopUp(topUp);
    }
    show(state, event, { live: true });
  };
  socket.onclose = () => {
    if (state !== current || state.socket !== socket) return;
    state.socket = null;
    connection.textContent = 'Reconnecting… your top-up carries on meanwhile.';
    if (!opened) state.failedConnects += 1;
    state.timer = setTimeout(async () => {
      state.timer = null;
      // A socket refused again and again may be for a payment we no longer know (its token is wrong,
      // or a local data folder was wiped): ask once over HTTP rather than retry for ever.
      if (state.failedConnects >= 3 && (await paymentIsUnknown(topUp))) {
        if (state === current) forget(state);
        return;
      }
      if (state === current) follow(state);
    }, nextDelay(state));
  };
}

async function paymentIsUnknown(topUp) {
  try {
    const response = await fetch(`/api/payments/${encodeURIComponent(topUp.accepted.paymentId)}`, {
      headers: { authorization: `Bearer ${topUp.accepted.statusToken}` },
    });
    return response.status === 404;
  } catch {
    return false;
  }
}

/** The stored payment is not known here: let the customer start again, with its reference to quote. */
function forget(state) {
  const paymentId = state.topUp.accepted.paymentId;
  end(state);
  clearTopUp();
  connection.textContent = '';
  lockForm(false);
  showProblems(
    {},
    `We could not find your top-up with reference ${paymentId}. If money was taken for it, please contact us quoting that reference before paying again.`,
  );
}

/** Stops following: no more requests, sockets or timers for this top-up. */
function end(state) {
  if (current === state) current = null;
  clearTimeout(state.timer);
  const socket = state.socket;
  state.socket = null;
  if (socket) {
    socket.onclose = null;
    socket.onmessage = null;
    if (socket.readyState === WebSocket.OPEN) socket.close(1000, 'done');
    // Closing one still connecting makes the browser warn; let it open and close it then.
    else if (socket.readyState === WebSocket.CONNECTING) socket.onopen = () => socket.close(1000, 'done');
  }
}

function show(state, event, { live }) {
  if (event.type === 'charged' && typeof event.amountPence === 'number')
    state.chargedPence = event.amountPence;
  const line = timelineLine(event, state);
  if (line) {
    const [text, tone] = line;
    const item = document.createElement('li');
    if (tone) item.className = tone;
    const at = new Date(event.at);
    if (!Number.isNaN(at.getTime())) {
      const time = document.createElement('time');
      time.dateTime = event.at;
      time.textContent = at.toLocaleTimeString('en-GB');
      item.append(time);
    }
    item.append(text);
    timeline.append(item);
  }

  const ending = outcomeOf(event, state);
  if (ending) {
    showOutcome(ending, state);
    if (live) outcomeTitle.focus();
  } else if (event.type !== 'accepted') {
    // Progress after "final for now" (a charge confirmed after all): the earlier outcome no longer holds.
    outcome.hidden = true;
  }
  if (FINAL.has(event.type) || FINAL_FOR_NOW.has(event.type) || isUnconfirmedDecline(event)) {
    topUpAgain.hidden = false;
  }
}

function showOutcome(ending, state) {
  outcome.className = ending.tone;
  outcomeTitle.textContent = ending.title;
  const parts = ending.paragraphs.map((text) => {
    const paragraph = document.createElement('p');
    paragraph.textContent = text;
    return paragraph;
  });
  if (ending.utrn) {
    const code = document.createElement('p');
    code.className = 'utrn';
    code.setAttribute('aria-label', `Credit code ${String(ending.utrn).split('').join(' ')}`);
    code.textContent = groupedUtrn(ending.utrn);
    parts.splice(2, 0, code);
  }
  const paymentId = state.topUp.accepted?.paymentId;
  if (paymentId) {
    const quote = document.createElement('p');
    quote.className = ending.quote ? 'quote' : '';
    quote.append(ending.quote ? 'Quote this reference if you contact us: ' : 'Payment reference: ');
    const reference = document.createElement('strong');
    reference.className = 'reference';
    reference.textContent = paymentId;
    quote.append(reference);
    parts.push(quote);
  }
  outcomeText.replaceChildren(...parts);
  topUpAgain.hidden = true;
  outcome.hidden = false;
}

/** Shows a top-up (new, or found again after a reload) and carries it on from where it stood. */
function resume(topUp, { fresh }) {
  const state = newState(topUp);
  current = state;
  fillForm(topUp.body);
  lockForm(true);
  showProblems({}, '');
  timeline.replaceChildren();
  outcome.hidden = true;
  referenceLine.hidden = true;
  progress.hidden = false;
  for (const event of topUp.events) show(state, event, { live: false });
  if (topUp.accepted) {
    showReference(topUp.accepted.paymentId);
    follow(state);
  } else {
    if (!fresh) topUp.mayExist = true;
    send(state);
  }
}

form.addEventListener('submit', (submitted) => {
  submitted.preventDefault();
  if (current) return;
  const { body, problems } = readForm();
  if (Object.keys(problems).length > 0) {
    showProblems(problems);
    return;
  }
  const topUp = { idempotencyKey: crypto.randomUUID(), body, mayExist: false, events: [] };
  // Stored before it is sent: a reload while it is in flight must ask with this key, never a new one.
  saveTopUp(topUp);
  resume(topUp, { fresh: true });
});

topUpAgain.addEventListener('click', () => {
  if (current) end(current);
  clearTopUp();
  timeline.replaceChildren();
  outcome.hidden = true;
  referenceLine.hidden = true;
  progress.hidden = true;
  connection.textContent = '';
  form.amount.value = DEFAULT_AMOUNT;
  form.card.selectedIndex = 0;
  lockForm(false);
  showProblems({}, '');
  // The meter number is kept: a second top-up is usually for the same meter.
  form.amount.focus();
});

// Back online: ask now rather than wait out the backoff.
window.addEventListener('online', () => {
  const state = current;
  if (!state?.timer) return;
  clearTimeout(state.timer);
  state.timer = null;
  if (state.topUp.accepted) {
    if (!state.socket) follow(state);
  } else {
    send(state);
  }
});

const stored = loadTopUp();
if (stored) resume(stored, { fresh: false });

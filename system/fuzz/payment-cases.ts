/**
 * Requests about the real payments made before the run. Cross-payment probes misuse them (another payment's
 * token, a token cut short or forged, on GET and on the socket) and must be answered exactly as a request for
 * a payment that does not exist is. Valid controls use them as the contract intends and must get its
 * documented success, so a front-end that refused everything could not pass.
 */
import { createHash } from 'node:crypto';
import { type CaseDraft, type RealPayment, type RequestKit, VALID_BODY } from './fuzz-case.ts';

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Status tokens as an attacker or a broken client would try them on `payment`. */
function wrongTokens(
  kit: RequestKit,
  payment: RealPayment,
): Array<() => { variant: string; token: string; forged?: boolean }> {
  const { random } = kit;
  const token = payment.statusToken;
  return [
    () => ({ variant: 'another payment’s token', token: kit.payment(payment).statusToken }),
    () => ({ variant: 'its token cut short', token: token.slice(0, random.int(1, token.length - 1)) }),
    () => ({
      variant: 'its token with more after it',
      token: token + random.pick(['=', 'A', '-', '..', random.letters(3)]),
    }),
    () => {
      const at = random.int(0, token.length - 1);
      const others = BASE64URL.replace(token[at]!, '');
      return {
        variant: 'its token with one character changed',
        token: token.slice(0, at) + random.pick([...others]) + token.slice(at + 1),
      };
    },
    () => {
      const swapped = [...token]
        .map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()))
        .join('');
      return { variant: 'its token in the other case', token: swapped === token ? `${token}x` : swapped };
    },
    () => ({ variant: 'a forged token', token: kit.forgedToken(), forged: true }),
    () => ({ variant: 'the SHA-256 of its token', token: createHash('sha256').update(token).digest('hex') }),
  ];
}

export function crossPaymentProbes(kit: RequestKit): CaseDraft {
  const { random } = kit;
  const payment = kit.payment();
  const probe = random.pick(wrongTokens(kit, payment))();
  const forgedTokens = probe.forged ? [probe.token] : [];
  const variants: Array<() => CaseDraft> = [
    () => ({
      type: 'http',
      variant: `GET with ${probe.variant}`,
      request: kit.getPayment(payment.paymentId, `Bearer ${probe.token}`),
      expect: { asUnknown: 'http' },
      forgedTokens,
    }),
    () => ({
      type: 'http',
      variant: `socket with ${probe.variant}`,
      request: kit.upgrade(kit.eventsTarget(payment.paymentId, probe.token)),
      expect: { asUnknown: 'socket' },
      forgedTokens,
    }),
    () => {
      const authorization = random.pick([
        undefined,
        '',
        'Bearer',
        'Bearer ',
        'Bearer null',
        'Bearer undefined',
        `Basic ${Buffer.from(`${payment.paymentId}:${payment.statusToken}`).toString('base64')}`,
        `Token ${payment.statusToken}`,
        payment.statusToken,
        `Bearer ${payment.statusToken} ${payment.statusToken}`,
      ]);
      return {
        type: 'http',
        variant: `GET with Authorization ${authorization === undefined ? 'missing' : JSON.stringify(authorization.replace(payment.statusToken, '<its token>').replace(/Basic \S+/, 'Basic …'))}`,
        request: kit.getPayment(payment.paymentId, authorization),
        expect: { asUnknown: 'http' },
      };
    },
    () => ({
      type: 'http',
      variant: 'GET with its token in the query, not the header',
      request: {
        method: 'GET',
        target: `/api/payments/${payment.paymentId}?token=${payment.statusToken}`,
        headers: [],
      },
      expect: { asUnknown: 'http' },
    }),
    () => ({
      type: 'http',
      variant: 'socket with no token',
      request: kit.upgrade(
        kit.eventsTarget(payment.paymentId, undefined, random.pick(['', 'token=', 'after=0'])),
      ),
      expect: { asUnknown: 'socket' },
    }),
    () => {
      const unknown = random.chance(0.5);
      return {
        type: 'http',
        variant: `GET ${unknown ? 'an unknown payment' : 'another payment'} with a real token`,
        request: kit.getPayment(
          unknown ? kit.unknownPaymentId() : kit.payment(payment).paymentId,
          `Bearer ${payment.statusToken}`,
        ),
        expect: { asUnknown: 'http' },
      };
    },
    () => {
      const id = payment.paymentId;
      const altered = random.pick([
        id.toUpperCase(),
        `${id}x`,
        id.slice(0, -1),
        `${id.slice(0, -1)}${id.endsWith('0') ? '1' : '0'}`,
      ]);
      const socket = random.chance(0.5);
      return {
        type: 'http',
        variant: `${socket ? 'socket' : 'GET'} of its id altered, with its token`,
        request: socket
          ? kit.upgrade(kit.eventsTarget(altered, payment.statusToken))
          : kit.getPayment(altered, `Bearer ${payment.statusToken}`),
        expect: { asUnknown: socket ? 'socket' : 'http' },
      };
    },
    () => {
      // Sent where no token belongs, another payment's token must not come back in the refusal.
      const token = kit.payment(payment).statusToken;
      const asName = random.chance(0.5);
      const body = JSON.stringify(
        asName ? { ...VALID_BODY, [token]: 1 } : { ...VALID_BODY, statusToken: token },
      );
      return {
        type: 'http',
        variant: `another payment’s token in the body, as a field ${asName ? 'name' : 'value'}`,
        request: kit.post(body),
        expect: { statuses: [400], field: 'body' },
      };
    },
  ];
  return random.pick(variants)();
}

export function validControls(kit: RequestKit): CaseDraft {
  const { random } = kit;
  const payment = kit.payment();
  const body = () =>
    JSON.stringify({
      ...VALID_BODY,
      amountPence: random.int(1_000, 17_500),
      paymentToken: random.pick(['tok_visa', 'tok_chargeDeclined', 'tok_insufficientFunds']),
    });
  const variants: Array<() => CaseDraft> = [
    () => ({
      type: 'http',
      variant: 'a new top-up',
      request: kit.post(body()),
      expect: { statuses: [202] },
    }),
    () => {
      const key = kit.key();
      const first = body();
      return {
        type: 'http',
        variant: 'the same top-up again (a replay)',
        before: kit.post(first, { headers: [['Idempotency-Key', key]] }),
        request: kit.post(first, { headers: [['Idempotency-Key', key]] }),
        expect: { statuses: [202], replaysBefore: true },
      };
    },
    () => {
      const key = kit.key();
      const first = body();
      let second = body();
      if (second === first) second = JSON.stringify({ ...JSON.parse(first), amountPence: 17_500 - 1 });
      return {
        type: 'http',
        variant: 'the same key with another body',
        before: kit.post(first, { headers: [['Idempotency-Key', key]] }),
        request: kit.post(second, { headers: [['Idempotency-Key', key]] }),
        expect: { statuses: [422], code: 'idempotency_key_reused' },
      };
    },
    () => ({
      type: 'http',
      variant: 'its own status',
      request: kit.getPayment(payment.paymentId, `Bearer ${payment.statusToken}`),
      expect: { statuses: [200], ownPayment: payment.label },
    }),
    () => {
      const withOrigin = random.chance(0.7);
      return {
        type: 'socket',
        variant: `its own events socket${withOrigin ? '' : ' with no Origin (not a browser)'}`,
        request: kit.upgrade(
          kit.eventsTarget(payment.paymentId, payment.statusToken),
          withOrigin ? {} : { origin: null },
        ),
        frames: [],
        finish: 'close',
        maskKey: kit.maskKey(),
        expect: { statuses: [101], closeCodes: [1000], minMessages: 1, ownPayment: payment.label },
      };
    },
    () => ({
      type: 'http',
      variant: 'GET /health',
      request: { method: 'GET', target: '/health', headers: [] },
      expect: { statuses: [200] },
    }),
  ];
  return random.pick(variants)();
}

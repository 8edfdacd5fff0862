/** The gateway client against the gateway simulator: every answer the charge task must tell apart. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulators, startSimulators } from '../../../local/simulators/start-simulators.ts';
import { HttpPaymentGateway } from './client.ts';
import {
  PaymentGatewayRequestInProgressError,
  PaymentGatewayRequestRefusedError,
  PaymentGatewayUnavailableError,
} from './errors.ts';

let simulators: RunningSimulators;
let gateway: HttpPaymentGateway;
let keys = 0;

beforeAll(async () => {
  simulators = await startSimulators({ port: 0 });
  gateway = new HttpPaymentGateway({ baseUrl: simulators.gatewayUrl, timeoutMs: 5_000 });
});

afterAll(async () => {
  await simulators.close();
});

function chargeWith(paymentToken: string, key?: string) {
  keys += 1;
  const idempotencyKey = key ?? `pay_gw_${keys}`;
  return gateway.charge({ idempotencyKey, amountPence: 2000, paymentToken, reference: idempotencyKey });
}

describe('HttpPaymentGateway', () => {
  it('returns a succeeded charge, and the same charge for the same key', async () => {
    // Act
    const first = await chargeWith('tok_visa', 'pay_gw_same');
    const again = await chargeWith('tok_visa', 'pay_gw_same');

    // Assess
    expect(first).toEqual({ status: 'succeeded', chargeId: expect.stringMatching(/^ch_/) });
    expect(again).toEqual(first);
    expect(simulators.gateway.chargeCount('pay_gw_same')).toBe(1);
  });

  it.each([
    ['tok_chargeDeclined', 'generic_decline'],
    ['tok_insufficientFunds', 'insufficient_funds'],
    ['tok_expiredCard', 'expired_card'],
  ])('returns %s as a decline with code %s', async (token, declineCode) => {
    // Act
    const outcome = await chargeWith(token);

    // Assess
    expect(outcome).toMatchObject({ status: 'declined', declineCode });
  });

  it('throws PaymentGatewayUnavailable on an outage, then charges with the same key', async () => {
    // Act
    const first = await chargeWith('tok_gatewayOutage', 'pay_gw_outage').catch((error: unknown) => error);
    const second = await chargeWith('tok_gatewayOutage', 'pay_gw_outage').catch((error: unknown) => error);
    const third = await chargeWith('tok_gatewayOutage', 'pay_gw_outage');

    // Assess
    expect(first).toBeInstanceOf(PaymentGatewayUnavailableError);
    expect((second as Error).name).toBe('PaymentGatewayUnavailable');
    expect(third.status).toBe('succeeded');
  });

  it('throws PaymentGatewayUnavailable when the gateway cannot be reached', async () => {
    // Prepare
    const unreachable = new HttpPaymentGateway({ baseUrl: 'http://127.0.0.1:1/gateway', timeoutMs: 2_000 });

    // Act
    const failure = await unreachable
      .charge({ idempotencyKey: 'pay_x', amountPence: 2000, paymentToken: 'tok_visa', reference: 'pay_x' })
      .catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(PaymentGatewayUnavailableError);
  });

  it('throws PaymentGatewayRequestInProgress while an earlier request with the key is still at the gateway', async () => {
    // Prepare: the first attempt is slow (tok_slow), as one whose task died would be
    const first = chargeWith('tok_slow', 'pay_gw_in_progress');
    await new Promise((resolve) => setTimeout(resolve, 200));

    // Act
    const retry = await chargeWith('tok_slow', 'pay_gw_in_progress').catch((error: unknown) => error);
    const answered = await first;
    const afterwards = await chargeWith('tok_slow', 'pay_gw_in_progress');

    // Assess
    expect(retry).toBeInstanceOf(PaymentGatewayRequestInProgressError);
    expect((retry as Error).name).toBe('PaymentGatewayRequestInProgress');
    expect(afterwards).toEqual(answered);
    expect(simulators.gateway.chargeCount('pay_gw_in_progress')).toBe(1);
  });

  it('finds by its reference a charge whose every answer was lost, and nothing for a reference never charged', async () => {
    // Prepare: the gateway takes the money, but the answer never arrives
    const lost = await chargeWith('tok_answerLost', 'pay_gw_answer_lost').catch((error: unknown) => error);
    const declined = await chargeWith('tok_insufficientFunds', 'pay_gw_found_declined');

    // Act
    const found = await gateway.findCharge('pay_gw_answer_lost');
    const foundDeclined = await gateway.findCharge('pay_gw_found_declined');
    const nothing = await gateway.findCharge('pay_gw_never_charged');

    // Assess
    expect(lost).toBeInstanceOf(PaymentGatewayUnavailableError);
    expect(found).toEqual({ status: 'succeeded', chargeId: expect.stringMatching(/^ch_/) });
    expect(foundDeclined).toEqual({ ...declined, chargeId: expect.stringMatching(/^ch_/) });
    expect(nothing).toBeUndefined();
  });

  it('throws a refusal, not naming the card, for a PAN sent as a token', async () => {
    // Act
    const failure = await chargeWith('4242424242424242').catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(PaymentGatewayRequestRefusedError);
    expect((failure as Error).message).toContain('card_data_refused');
    expect((failure as Error).message).not.toContain('4242');
  });
});

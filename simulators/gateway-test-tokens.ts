/** The payment gateway simulator's test tokens: each token is a scenario, as a card gateway's test cards are. */

export type TokenBehaviour =
  | { readonly kind: 'charge' }
  | { readonly kind: 'slow' }
  | { readonly kind: 'outage' }
  | { readonly kind: 'down' }
  | { readonly kind: 'answerLost' }
  | {
      readonly kind: 'decline';
      readonly failureCode: 'card_declined' | 'expired_card';
      readonly declineCode: string;
      readonly message: string;
    };

/** The test tokens. Anything else that starts `tok_` is an unknown token (400 resource_missing). */
export const PAYMENT_TEST_TOKENS: Readonly<
  Record<string, TokenBehaviour & { readonly description: string }>
> = {
  tok_visa: { kind: 'charge', description: 'charged' },
  tok_mastercard: { kind: 'charge', description: 'charged' },
  tok_chargeDeclined: {
    kind: 'decline',
    failureCode: 'card_declined',
    declineCode: 'generic_decline',
    message: 'Your card was declined.',
    description: '402 card_declined, declineCode generic_decline',
  },
  tok_insufficientFunds: {
    kind: 'decline',
    failureCode: 'card_declined',
    declineCode: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
    description: '402 card_declined, declineCode insufficient_funds',
  },
  // Issuers ask merchants not to tell the customer a card is reported lost or stolen.
  tok_lostCard: {
    kind: 'decline',
    failureCode: 'card_declined',
    declineCode: 'lost_card',
    message: 'Your card was declined.',
    description: '402 card_declined, declineCode lost_card',
  },
  tok_stolenCard: {
    kind: 'decline',
    failureCode: 'card_declined',
    declineCode: 'stolen_card',
    message: 'Your card was declined.',
    description: '402 card_declined, declineCode stolen_card',
  },
  tok_expiredCard: {
    kind: 'decline',
    failureCode: 'expired_card',
    declineCode: 'expired_card',
    message: 'Your card has expired.',
    description: '402 expired_card',
  },
  tok_gatewayOutage: {
    kind: 'outage',
    description:
      '503 gateway_unavailable for the first attempts per idempotency key (default 2), then charged',
  },
  tok_gatewayDown: {
    kind: 'down',
    description: '503 gateway_unavailable on every attempt: the gateway never confirms the charge',
  },
  tok_slow: { kind: 'slow', description: 'charged, answering after a delay (default 2 s)' },
  tok_answerLost: {
    kind: 'answerLost',
    description:
      'charged, but every answer to the charge request is lost (503 gateway_timeout): the charge is found only by its reference',
  },
};

/** The Lambda handler the engine benchmark's Charge step calls through the embedded Lambda runner. */
export async function charge(event: { paymentId: string }) {
  return { status: 'charged', lines: Array.from({ length: 10 }, (_, i) => ({ i, input: event.paymentId })) };
}

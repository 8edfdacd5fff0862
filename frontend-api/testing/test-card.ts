/**
 * The test card 4000 0566 5566 5556 in every form the card-data tests send: plain, grouped by any
 * one to three non-digits (spaces, dots, dashes, a UTF-8 separator read as Latin-1, `%20`), full-width
 * or percent-encoded digit by digit. The groups must stand apart from other digits, so a long
 * number that merely contains them (a log line's `responseTime` of 25.1668840000056660) is not
 * taken for the card.
 */
export const TEST_CARD_DIGITS =
  /(?<!\d)(?:4000(?:\D{1,3}|%20)?0566|5566(?:\D{1,3}|%20)?5556|4000056655665556)(?!\d)|４０００|%34%30%30%30/;

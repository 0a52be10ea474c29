export function withTax(cents) {
  return cents + cents / 5;
}

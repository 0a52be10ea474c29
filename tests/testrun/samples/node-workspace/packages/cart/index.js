import { label } from 'labels';
import { withTax } from 'prices';

export function total(items) {
  return label(withTax(items.reduce((sum, cents) => sum + cents, 0)));
}

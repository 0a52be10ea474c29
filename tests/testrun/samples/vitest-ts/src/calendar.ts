export function hourOf(date: Date): number {
  return date.getHours();
}

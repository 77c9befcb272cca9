import { addDays, dayOf, daysBetween, partsOf } from '@membergraph/platform';

/**
 * When the periodic tier evaluation happens: at the start (tenant midnight) of the first day of every
 * period of `months` months, periods counted from January, so the default 3 gives 1 January, 1 April,
 * 1 July and 1 October. Only lengths that divide the year, so every year has the same dates.
 */
export const EVALUATION_PERIODS = [1, 2, 3, 4, 6, 12] as const;

/** True when business day `day` is an evaluation day. */
export function isEvaluationDay(day: string, months: number): boolean {
  const { month, day: d } = partsOf(day);
  return d === 1 && (month - 1) % months === 0;
}

/** The evaluation day that opened the period `day` is in (`day` itself on an evaluation day). */
export function currentEvaluationDay(day: string, months: number): string {
  const { year, month } = partsOf(day);
  return dayOf(year, month - ((month - 1) % months), 1);
}

/** The first evaluation day strictly after `day`: the one a warning on `day` is about. */
export function nextEvaluationDay(day: string, months: number): string {
  const { year, month } = partsOf(currentEvaluationDay(day, months));
  const next = month + months;
  return next > 12 ? dayOf(year + 1, next - 12, 1) : dayOf(year, next, 1);
}

/**
 * Whether business day `day` is inside the warning window of evaluation day `evaluationDay`:
 * the `warnDays` days before it (`evaluationDay - warnDays` up to the day before). A run on any day
 * of the window warns whoever is due and not yet warned, so a missed day costs nothing.
 */
export function inWarningWindow(day: string, evaluationDay: string, warnDays: number): boolean {
  const ahead = daysBetween(day, evaluationDay);
  return ahead >= 1 && ahead <= warnDays;
}

/** The business days a scheduler run on `today` covers, oldest first: `catchUpDays` missed days, then today. */
export function daysToCover(today: string, catchUpDays: number): string[] {
  return Array.from({ length: catchUpDays + 1 }, (_, i) => addDays(today, i - catchUpDays));
}

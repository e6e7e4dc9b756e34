/**
 * Option parsers every command shares. A bad value is commander's usage error, which names the option and the value
 * ("option '--limit <n>' argument 'x' is invalid. expected …") and exits 1.
 */
import { InvalidArgumentError } from 'commander';

const range = (min: number, max: number) =>
  max < Number.MAX_SAFE_INTEGER ? `from ${min} to ${max}` : `of at least ${min}`;

/** A whole number in [min, max]. */
export const wholeNumber =
  (min: number, max = Number.MAX_SAFE_INTEGER) =>
  (text: string): number => {
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max)
      throw new InvalidArgumentError(`expected a whole number ${range(min, max)}`);
    return value;
  };

/** A number in [min, max]; `Infinity` only where `max` is `Infinity`. */
export const decimal =
  (min: number, max = Number.MAX_SAFE_INTEGER) =>
  (text: string): number => {
    const value = Number(text);
    if (text.trim() === '' || Number.isNaN(value) || value < min || value > max)
      throw new InvalidArgumentError(`expected a number ${range(min, max)}`);
    return value;
  };

/** Collects a repeatable option's values. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

const badInput = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });

/** `DateTime`: ISO-8601 strings in, Date objects inside, ISO-8601 UTC out. */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An instant in UTC, as an ISO-8601 string.',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(value as string);
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime cannot represent an invalid date');
    return date.toISOString();
  },
  parseValue: parseDateTime,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw badInput('DateTime must be an ISO-8601 string');
    return parseDateTime(ast.value);
  },
});

function parseDateTime(value: unknown): Date {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) {
    throw badInput('DateTime must be an ISO-8601 string');
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw badInput('DateTime must be a valid date');
  return date;
}

function toFen(value: unknown): number {
  const n = typeof value === 'bigint' ? Number(value) : typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw badInput('Fen must be a whole number of fen');
  return n;
}

/** `Fen`: money as an integer number of fen, exact up to 2^53. */
export const FenScalar = new GraphQLScalarType<number, number>({
  name: 'Fen',
  description: 'An amount of money in fen (1/100 CNY), as an integer.',
  serialize: (value) => toFen(value),
  parseValue: (value) => toFen(value),
  parseLiteral(ast) {
    if (ast.kind !== Kind.INT) throw badInput('Fen must be a whole number of fen');
    return toFen(ast.value);
  },
});

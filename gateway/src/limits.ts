import {
  GraphQLError,
  Kind,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';

export interface QueryLimits {
  /** Deepest field nesting allowed (a root field is depth 1). */
  maxDepth: number;
  /** Aliased fields allowed per operation, counting each fragment spread. */
  maxAliases: number;
}

interface Measure {
  depth: number;
  aliases: number;
}

/**
 * A validation rule refusing operations nested deeper than `maxDepth` or using more than
 * `maxAliases` aliases. Fragments are followed (and measured once each, so a chain of spreads
 * costs linear time); introspection fields (`__schema`, `__type`) are not counted, so tools
 * that introspect keep working where introspection is enabled. `__typename` is free.
 * Apollo Server reports the refusal as GRAPHQL_VALIDATION_FAILED (HTTP 400).
 */
export function queryLimitsRule(limits: QueryLimits): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const fragmentMeasures = new Map<string, Measure>();
    const inProgress = new Set<string>();

    const measureFragment = (fragment: FragmentDefinitionNode): Measure => {
      const name = fragment.name.value;
      const known = fragmentMeasures.get(name);
      if (known) return known;
      // A cycle is reported by NoFragmentCyclesRule; count it as empty here.
      if (inProgress.has(name)) return { depth: 0, aliases: 0 };
      inProgress.add(name);
      const measure = measureSelectionSet(fragment.selectionSet);
      inProgress.delete(name);
      fragmentMeasures.set(name, measure);
      return measure;
    };

    const measureSelectionSet = (selectionSet: SelectionSetNode): Measure => {
      let depth = 0;
      let aliases = 0;
      for (const selection of selectionSet.selections) {
        switch (selection.kind) {
          case Kind.FIELD: {
            if (selection.name.value.startsWith('__')) continue;
            if (selection.alias && selection.alias.value !== selection.name.value) aliases += 1;
            const inner = selection.selectionSet ? measureSelectionSet(selection.selectionSet) : { depth: 0, aliases: 0 };
            depth = Math.max(depth, inner.depth + 1);
            aliases += inner.aliases;
            break;
          }
          case Kind.INLINE_FRAGMENT: {
            const inner = measureSelectionSet(selection.selectionSet);
            depth = Math.max(depth, inner.depth);
            aliases += inner.aliases;
            break;
          }
          case Kind.FRAGMENT_SPREAD: {
            const fragment = context.getFragment(selection.name.value);
            if (!fragment) break; // KnownFragmentNamesRule reports it
            const inner = measureFragment(fragment);
            depth = Math.max(depth, inner.depth);
            aliases += inner.aliases;
            break;
          }
        }
      }
      return { depth, aliases };
    };

    return {
      OperationDefinition(node) {
        const { depth, aliases } = measureSelectionSet(node.selectionSet);
        const name = node.name ? `Operation "${node.name.value}"` : 'The operation';
        if (depth > limits.maxDepth) {
          context.reportError(
            new GraphQLError(`${name} is nested ${depth} levels deep; the maximum is ${limits.maxDepth}.`, {
              nodes: [node],
              extensions: { depth, maxDepth: limits.maxDepth },
            }),
          );
        }
        if (aliases > limits.maxAliases) {
          context.reportError(
            new GraphQLError(`${name} uses ${aliases} aliases; the maximum is ${limits.maxAliases}.`, {
              nodes: [node],
              extensions: { aliases, maxAliases: limits.maxAliases },
            }),
          );
        }
        return false; // no need to visit the operation's children
      },
    };
  };
}

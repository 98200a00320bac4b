/**
 * SR content items (PS3.3 C.17.3 SR Document Content Module) as dcmjs naturalized objects. Only the value
 * types the ILD report uses; each function returns one item for a ContentSequence.
 */
export type Code = Readonly<{ value: string; scheme: string; meaning: string; schemeVersion?: string }>;
export type Relationship = 'CONTAINS' | 'HAS OBS CONTEXT' | 'HAS CONCEPT MOD' | 'HAS PROPERTIES' | 'INFERRED FROM' | 'SELECTED FROM';
export type Item = Record<string, unknown>;

/** A code sequence item. Code values longer than 16 characters go in LongCodeValue (PS3.3 8.8). */
export function codeItem(c: Code): Item {
  return {
    ...(c.value.length > 16 ? { LongCodeValue: c.value } : { CodeValue: c.value }),
    CodingSchemeDesignator: c.scheme,
    ...(c.schemeVersion ? { CodingSchemeVersion: c.schemeVersion } : {}),
    CodeMeaning: c.meaning.slice(0, 64),
  };
}

export const dcm = (value: string, meaning: string): Code => ({ value, scheme: 'DCM', meaning });
export const sct = (value: string, meaning: string): Code => ({ value, scheme: 'SCT', meaning });
export const ucum = (value: string, meaning: string): Code => ({ value, scheme: 'UCUM', meaning });

export function container(rel: Relationship | null, name: Code, children: Item[], template?: string): Item {
  return {
    ...(rel ? { RelationshipType: rel } : {}),
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: [codeItem(name)],
    ContinuityOfContent: 'SEPARATE',
    ...(template ? { ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: template }] } : {}),
    ContentSequence: children,
  };
}

export function code(rel: Relationship, name: Code, value: Code, children?: Item[]): Item {
  return {
    RelationshipType: rel,
    ValueType: 'CODE',
    ConceptNameCodeSequence: [codeItem(name)],
    ConceptCodeSequence: [codeItem(value)],
    ...(children?.length ? { ContentSequence: children } : {}),
  };
}

export function text(rel: Relationship, name: Code, value: string): Item {
  return { RelationshipType: rel, ValueType: 'TEXT', ConceptNameCodeSequence: [codeItem(name)], TextValue: value };
}

export function uidref(rel: Relationship, name: Code, uid: string): Item {
  return { RelationshipType: rel, ValueType: 'UIDREF', ConceptNameCodeSequence: [codeItem(name)], UID: uid };
}

/** DS holds at most 16 characters (PS3.5 6.2): round to what fits. */
export function decimalString(v: number): string {
  for (let digits = 6; digits >= 0; digits--) {
    const s = String(Number(v.toFixed(digits)));
    if (s.length <= 16) return s;
  }
  return v.toExponential(8);
}

export function num(rel: Relationship, name: Code, value: number, unit: Code, children?: Item[]): Item {
  return {
    RelationshipType: rel,
    ValueType: 'NUM',
    ConceptNameCodeSequence: [codeItem(name)],
    MeasuredValueSequence: [{ MeasurementUnitsCodeSequence: [codeItem(unit)], NumericValue: decimalString(value) }],
    ...(children?.length ? { ContentSequence: children } : {}),
  };
}

export function image(rel: Relationship, name: Code | null, sopClassUid: string, sopInstanceUid: string): Item {
  return {
    RelationshipType: rel,
    ValueType: 'IMAGE',
    ...(name ? { ConceptNameCodeSequence: [codeItem(name)] } : {}),
    ReferencedSOPSequence: [{ ReferencedSOPClassUID: sopClassUid, ReferencedSOPInstanceUID: sopInstanceUid }],
  };
}

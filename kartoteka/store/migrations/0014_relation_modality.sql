-- Kartoteka schema, version 14: a relation records how its sentence states
-- it (issue "A card index you can trust"): asserted, or a question, a
-- hypothetical (a condition, a plan, a request), speculation ("may have",
-- "possibly") or a report of someone else's claim ("X stated that he met
-- Y"). Only asserted relations are facts of the graph; the others are kept,
-- marked. Relations stored before are asserted, as they were read.
ALTER TABLE relations ADD COLUMN modality TEXT NOT NULL DEFAULT 'asserted';

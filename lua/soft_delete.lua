-- soft_delete.lua: keeps deleted rows in the lake, marked, instead of removing them. A delete
-- becomes an update (op "d" -> "u") whose after image is the deleted row plus
--   deleted = true, deleted_at = the commit time of the delete (source.ts_ms, ms since 1970 UTC).
-- Every other row image gets deleted = false, so the column is always there.
-- A delete needs its before image (the whole row with REPLICA IDENTITY FULL, else the key
-- columns only); without one the row cannot be marked and the event goes to the dead-letter store.

function transform(event)
  if event.before then event.before.deleted = false end
  if event.op == "d" then
    assert(event.before, "delete without a before image: cannot mark the row deleted")
    local row = {}
    for column, value in pairs(event.before) do row[column] = value end
    row.deleted = true
    row.deleted_at = event.source.ts_ms
    event.op = "u"
    event.after = row
  elseif event.after then
    event.after.deleted = false
  end
  return event
end

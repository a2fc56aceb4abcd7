/**
 * Finds how many values Lua's `unpack` takes in this server: doubles from 999 (up to 2^20) while
 * it succeeds and returns the last size that did.
 */
export const MAX_STACK_SCRIPT = String.raw`
local size = 999
local best = 0
while size <= 1048576 do
  local values = {}
  for index = 1, size do
    values[index] = index
  end
  local ok = pcall(function() return unpack(values) end)
  if not ok then
    break
  end
  best = size
  size = size * 2
end
return best
`;

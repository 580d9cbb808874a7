namespace HealthScoring.Service.Ingestion;

/// <summary>
/// The idempotency keys of the window, in memory: an open-addressing set of 128-bit keys with linear probing,
/// 16 bytes a slot at a load of at most 3/4 (21-43 bytes a key, against 36-72 for a <c>HashSet&lt;UInt128&gt;</c>).
/// Keys are SHA-256 prefixes, so their low bits already spread evenly: the slot is the key's low bits. Zero marks an
/// empty slot; the key zero itself is kept aside. It never shrinks (a purge leaves room for the next days' keys).
/// Not thread-safe: the store uses it under its write gate.
/// </summary>
internal sealed class KeySet
{
    private UInt128[] _slots = new UInt128[1024];
    private int _count;
    private bool _hasZero;

    public int Count => _count + (_hasZero ? 1 : 0);

    public bool Contains(UInt128 key)
    {
        if (key == UInt128.Zero)
        {
            return _hasZero;
        }

        var mask = _slots.Length - 1;
        for (var i = (int)(ulong)key & mask; ; i = (i + 1) & mask)
        {
            var slot = _slots[i];
            if (slot == key)
            {
                return true;
            }

            if (slot == UInt128.Zero)
            {
                return false;
            }
        }
    }

    /// <summary>Adds the key; false when it was already there.</summary>
    public bool Add(UInt128 key)
    {
        if (key == UInt128.Zero)
        {
            var added = !_hasZero;
            _hasZero = true;
            return added;
        }

        EnsureCapacity(_count + 1);
        if (!Insert(_slots, key))
        {
            return false;
        }

        _count++;
        return true;
    }

    /// <summary>
    /// Grows the table now, if <paramref name="count"/> keys would fill it past 3/4, so that adding them cannot fail
    /// on memory later. A resize briefly holds the old and the new table (up to 64 bytes a key at that moment).
    /// </summary>
    public void EnsureCapacity(int count)
    {
        var capacity = (long)_slots.Length;
        while (count * 4L > capacity * 3L)
        {
            capacity *= 2;
        }

        if (capacity > Array.MaxLength)
        {
            throw new InvalidOperationException($"The idempotency key set cannot hold {count:N0} keys; shorten HealthScoring:Ingestion:IdempotencyDays.");
        }

        if (capacity != _slots.Length)
        {
            Resize((int)capacity);
        }
    }

    /// <summary>Removes the key; false when it was not there. Later keys of its run shift back (no tombstones).</summary>
    public bool Remove(UInt128 key)
    {
        if (key == UInt128.Zero)
        {
            var removed = _hasZero;
            _hasZero = false;
            return removed;
        }

        var mask = _slots.Length - 1;
        var i = (int)(ulong)key & mask;
        while (_slots[i] != key)
        {
            if (_slots[i] == UInt128.Zero)
            {
                return false;
            }

            i = (i + 1) & mask;
        }

        // Backward-shift deletion: move up every later key of the run that may live in the hole.
        var hole = i;
        for (var j = (hole + 1) & mask; _slots[j] != UInt128.Zero; j = (j + 1) & mask)
        {
            var home = (int)(ulong)_slots[j] & mask;
            var distanceToHole = (hole - home) & mask;
            var distanceToSlot = (j - home) & mask;
            if (distanceToHole < distanceToSlot)
            {
                _slots[hole] = _slots[j];
                hole = j;
            }
        }

        _slots[hole] = UInt128.Zero;
        _count--;
        return true;
    }

    private static bool Insert(UInt128[] slots, UInt128 key)
    {
        var mask = slots.Length - 1;
        for (var i = (int)(ulong)key & mask; ; i = (i + 1) & mask)
        {
            if (slots[i] == key)
            {
                return false;
            }

            if (slots[i] == UInt128.Zero)
            {
                slots[i] = key;
                return true;
            }
        }
    }

    private void Resize(int capacity)
    {
        var slots = new UInt128[capacity];
        foreach (var key in _slots)
        {
            if (key != UInt128.Zero)
            {
                Insert(slots, key);
            }
        }

        _slots = slots;
    }
}

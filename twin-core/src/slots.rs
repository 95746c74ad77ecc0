//! A table addressed by dense, never-reused ids whose memory follows the live entries, not every id
//! ever issued: ids are grouped in pages and a page is freed when its last entry leaves. Kinds that
//! churn (detections, reports) keep issuing ids for as long as the server runs.

/// Entries by id in pages of `2^BITS` ids.
#[derive(Debug, Clone)]
pub(crate) struct IdTable<T, const BITS: u32 = 12> {
    pages: Vec<Option<Page<T>>>,
    /// The next id `push` hands out; every id below it has been issued.
    next: u64,
    live: usize,
}

#[derive(Debug, Clone)]
struct Page<T> {
    slots: Box<[Option<T>]>,
    live: usize,
}

impl<T, const BITS: u32> Default for IdTable<T, BITS> {
    fn default() -> Self {
        Self { pages: Vec::new(), next: 0, live: 0 }
    }
}

impl<T, const BITS: u32> IdTable<T, BITS> {
    const PAGE: usize = 1 << BITS;

    fn split(id: u64) -> Option<(usize, usize)> {
        let page = usize::try_from(id >> BITS).ok()?;
        Some((page, (id as usize) & (Self::PAGE - 1)))
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.next
    }

    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// Marks every id below `next` as issued (restoring a snapshot). Never lowers it.
    pub(crate) fn reserve_ids(&mut self, next: u64) {
        self.next = self.next.max(next);
    }

    pub(crate) fn get(&self, id: u64) -> Option<&T> {
        let (p, s) = Self::split(id)?;
        self.pages.get(p)?.as_ref()?.slots[s].as_ref()
    }

    pub(crate) fn get_mut(&mut self, id: u64) -> Option<&mut T> {
        let (p, s) = Self::split(id)?;
        self.pages.get_mut(p)?.as_mut()?.slots[s].as_mut()
    }

    /// Stores `value` under the next id and returns that id.
    pub(crate) fn push(&mut self, value: T) -> u64 {
        let id = self.next;
        self.next += 1;
        let placed = self.put(id, value);
        debug_assert!(placed.is_ok(), "a fresh id is always free");
        id
    }

    /// Stores `value` under an already issued, unoccupied id; gives it back otherwise.
    pub(crate) fn put(&mut self, id: u64, value: T) -> Result<(), T> {
        let Some((p, s)) = Self::split(id).filter(|_| id < self.next) else { return Err(value) };
        if self.pages.len() <= p {
            self.pages.resize_with(p + 1, || None);
        }
        let page =
            self.pages[p].get_or_insert_with(|| Page { slots: (0..Self::PAGE).map(|_| None).collect(), live: 0 });
        if page.slots[s].is_some() {
            return Err(value);
        }
        page.slots[s] = Some(value);
        page.live += 1;
        self.live += 1;
        Ok(())
    }

    pub(crate) fn take(&mut self, id: u64) -> Option<T> {
        let (p, s) = Self::split(id)?;
        let page = self.pages.get_mut(p)?.as_mut()?;
        let value = page.slots[s].take()?;
        page.live -= 1;
        self.live -= 1;
        if page.live == 0 {
            self.pages[p] = None;
        }
        Some(value)
    }

    /// Live entries in id order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, &T)> + '_ {
        (0u64..).zip(&self.pages).filter_map(|(p, page)| page.as_ref().map(|page| (p, page))).flat_map(|(p, page)| {
            (0u64..).zip(page.slots.iter()).filter_map(move |(s, v)| v.as_ref().map(|v| ((p << BITS) | s, v)))
        })
    }

    /// Pages currently allocated (for tests of the memory bound).
    #[cfg(test)]
    fn pages_held(&self) -> usize {
        self.pages.iter().flatten().count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_freed_when_their_last_entry_leaves() {
        let mut t: IdTable<u32, 2> = IdTable::default();
        let ids: Vec<u64> = (0..10).map(|v| t.push(v)).collect();
        assert_eq!(ids, (0..10).collect::<Vec<u64>>());
        assert_eq!((t.len(), t.pages_held()), (10, 3));
        for id in 0..8 {
            assert_eq!(t.take(id), Some(id as u32));
        }
        assert_eq!((t.len(), t.pages_held()), (2, 1), "ids 0..8 filled two pages, both gone");
        assert_eq!(t.take(3), None);
        assert_eq!(t.get(9), Some(&9));
        assert_eq!(t.push(10), 10, "ids are never reused");
        assert_eq!(t.iter().map(|(id, v)| (id, *v)).collect::<Vec<_>>(), vec![(8, 8), (9, 9), (10, 10)]);
    }

    #[test]
    fn put_only_fills_issued_free_ids() {
        let mut t: IdTable<&str, 2> = IdTable::default();
        assert_eq!(t.put(0, "a"), Err("a"), "not issued yet");
        t.reserve_ids(100);
        assert_eq!(t.put(57, "b"), Ok(()));
        assert_eq!(t.put(57, "c"), Err("c"));
        assert_eq!(t.push("d"), 100);
        if let Some(v) = t.get_mut(57) {
            *v = "e";
        }
        assert_eq!(t.iter().collect::<Vec<_>>(), vec![(57, &"e"), (100, &"d")]);
        assert_eq!(t.get(u64::MAX), None);
    }
}

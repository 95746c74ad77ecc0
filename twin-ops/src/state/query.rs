//! Read access: `viewer` None sees everything (operations centre); Some(agency) only its own.

use twin_core::{AgencyId, BBox, Position};

use super::{CaseQuery, OpsState};
use crate::case::{Case, CaseId};
use crate::timeline::{verify_chain, ChainError, TimelineEvent};
use crate::unit::{Unit, UnitId};

impl OpsState {
    fn visible(case: &Case, viewer: Option<&AgencyId>) -> bool {
        viewer.is_none_or(|a| *a == case.agency)
    }

    pub fn case(&self, id: CaseId, viewer: Option<&AgencyId>) -> Option<&Case> {
        self.cases.get(&id).map(|r| &r.case).filter(|c| Self::visible(c, viewer))
    }

    pub fn timeline(&self, id: CaseId, viewer: Option<&AgencyId>) -> Option<&[TimelineEvent]> {
        self.cases.get(&id).filter(|r| Self::visible(&r.case, viewer)).map(|r| r.timeline.as_slice())
    }

    /// Cases matching `query` that `viewer` may see, by id.
    pub fn cases<'a>(
        &'a self,
        query: &'a CaseQuery,
        viewer: Option<&'a AgencyId>,
    ) -> impl Iterator<Item = &'a Case> + 'a {
        self.cases.values().map(|r| &r.case).filter(move |c| {
            Self::visible(c, viewer)
                && (query.statuses.is_empty() || query.statuses.contains(&c.status))
                && query.agency.as_ref().is_none_or(|a| *a == c.agency)
                && query.bbox.as_ref().is_none_or(|b| in_bbox(c, b))
        })
    }

    /// Open cases (new … in_progress) that `viewer` may see.
    pub fn open_cases<'a>(&'a self, viewer: Option<&'a AgencyId>) -> impl Iterator<Item = &'a Case> + 'a {
        self.open.iter().filter_map(move |id| self.case(*id, viewer))
    }

    pub fn unit(&self, id: &UnitId, viewer: Option<&AgencyId>) -> Option<&Unit> {
        self.units.get(id).filter(|u| viewer.is_none_or(|a| *a == u.spec.agency))
    }

    pub fn units<'a>(&'a self, viewer: Option<&'a AgencyId>) -> impl Iterator<Item = &'a Unit> + 'a {
        self.units.values().filter(move |u| viewer.is_none_or(|a| *a == u.spec.agency))
    }

    /// Every case's hash chain.
    pub fn verify_chain(&self) -> Result<(), ChainError> {
        self.cases.iter().try_for_each(|(id, r)| verify_chain(*id, &r.timeline))
    }
}

fn in_bbox(c: &Case, b: &BBox) -> bool {
    let inside = |p: &Position| p.lon >= b.min_lon && p.lon <= b.max_lon && p.lat >= b.min_lat && p.lat <= b.max_lat;
    if c.location.as_ref().is_some_and(inside) {
        return true;
    }
    let Some(ring) = &c.area else { return false };
    // Envelope overlap: cheap and never misses a case whose area reaches into the box.
    let (mut lo_x, mut lo_y, mut hi_x, mut hi_y) = (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
    for p in ring {
        lo_x = lo_x.min(p.lon);
        lo_y = lo_y.min(p.lat);
        hi_x = hi_x.max(p.lon);
        hi_y = hi_y.max(p.lat);
    }
    lo_x <= b.max_lon && hi_x >= b.min_lon && lo_y <= b.max_lat && hi_y >= b.min_lat
}

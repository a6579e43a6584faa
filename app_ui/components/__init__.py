"""Parts of pages that are shown on more than one page or are big enough to stand alone:
the plan view, the what-if inputs and settings form, saved scenarios, the pool view and the
loan forms."""

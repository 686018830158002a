"""HTTP shells: REST handlers, reports, ceremony, pages, links, the route table."""

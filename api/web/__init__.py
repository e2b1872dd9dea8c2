"""Web pages for GP practices, link workers, organisations and commissioners.

Server-rendered with the NHS.UK design system; see README.md in this folder.
"""

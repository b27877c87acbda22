"""``mlemap explore``: an offline page where the learner moves a control and watches the estimates move.

Five panels (a coin with a Beta prior, a normal mean with a normal prior, likelihood x prior =
posterior in two dimensions, ridge against lasso, optimisers on a likelihood surface), computed
live by the page's own script from data embedded at build time. No network, no external files.
"""

from .page import FILENAME, page_html, write_page

__all__ = ["FILENAME", "page_html", "write_page"]

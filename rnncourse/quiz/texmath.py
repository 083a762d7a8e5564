"""Inline math of the question bank: ``$...$`` (TeX) for the book, Unicode for the terminal.

The bank writes formulas once, as TeX between dollar signs (MyST's ``dollarmath``), so that the
book typesets them. A terminal cannot, so :func:`plain` turns every ``$...$`` into readable Unicode:
``$v_a^\\top \\tanh(W_q^\\top q + W_k^\\top k)$`` becomes ``vₐᵀ tanh(W_qᵀ q + W_kᵀ k)``. Only the
subset of TeX that the bank uses is understood; anything else raises :class:`TexError`, and the tests
convert every formula of the bank, so a new command must be added here before it can be used.
"""
from __future__ import annotations

import re

__all__ = ["TexError", "to_unicode", "plain", "math_segments"]


class TexError(ValueError):
    """A formula uses TeX that :func:`to_unicode` does not know."""


_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ",
    "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ", "varphi": "φ",
    "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ",
    "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}
_SYMBOLS = {
    "cdot": "·", "times": "×", "odot": "⊙", "otimes": "⊗", "oplus": "⊕", "circ": "∘", "le": "≤",
    "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "approx": "≈", "equiv": "≡", "sim": "∼",
    "propto": "∝", "in": "∈", "notin": "∉", "to": "→", "rightarrow": "→", "leftarrow": "←", "gets": "←",
    "Rightarrow": "⇒", "mapsto": "↦", "infty": "∞", "partial": "∂", "nabla": "∇", "sum": "Σ",
    "prod": "Π", "pm": "±", "ldots": "…", "dots": "…", "cdots": "⋯", "lVert": "‖", "rVert": "‖",
    "|": "‖", "Vert": "‖", "lvert": "|", "rvert": "|", "mid": "|", "langle": "⟨", "rangle": "⟩", "lfloor": "⌊",
    "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉", "{": "{", "}": "}", "forall": "∀", "exists": "∃",
    "ell": "ℓ", "top": "ᵀ", "prime": "′", "%": "%", "_": "_", "#": "#", "neg": "¬", "land": "∧",
    "lor": "∨", "ll": "≪", "gg": "≫",
    **_GREEK,
}
# operators and relations keep the blanks around them; closing delimiters take the blank before them
_BINARY = {"cdot", "times", "odot", "otimes", "oplus", "circ", "le", "leq", "ge", "geq", "ne", "neq",
           "approx", "equiv", "sim", "propto", "in", "notin", "to", "rightarrow", "leftarrow", "gets",
           "Rightarrow", "mapsto", "pm", "mid", "land", "lor", "ll", "gg"}
_PREFIX = {"partial", "nabla", "sum", "prod", "neg", "top",       # these take the blank after them
           "lVert", "lvert", "langle", "lfloor", "lceil"}
_CLOSING = {"rVert", "rvert", "rangle", "rfloor", "rceil"}
_CLOSE = "\x00"
_WORDS = {"log", "ln", "exp", "tanh", "sin", "cos", "max", "min", "arg", "det", "lim", "argmax",
          "argmin", "softmax", "diag", "sgn"}
_SPACES = {",": " ", ";": " ", ":": " ", "quad": "  ", "qquad": "  ", " ": " ", "!": ""}
_TEXT = {"text", "mathrm", "operatorname", "mathbf", "boldsymbol", "mathit", "textrm", "mathsf"}
_ACCENTS = {"hat": "\u0302", "tilde": "\u0303", "bar": "\u0304", "dot": "\u0307", "vec": "\u20d7"}
_BLACKBOARD = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "E": "𝔼", "Q": "ℚ"}
_CALLIGRAPHIC = {"L": "ℒ", "N": "𝒩", "O": "𝒪", "W": "𝒲", "D": "𝒟", "H": "ℋ", "T": "𝒯", "V": "𝒱"}

_SUP = dict(zip("0123456789+-=()niabcdefghjklmoprstuvwxyzABDEGHIJKLMNOPRTUVWᵀ′",
                "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵃᵇᶜᵈᵉᶠᵍʰʲᵏˡᵐᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂᵀ′"))
_SUB = dict(zip("0123456789+-=()aehijklmnoprstuvxβγρφχ",
                "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ"))


class _Parser:
    def __init__(self, tex: str):
        self.s, self.i = tex, 0

    def error(self, msg):
        raise TexError(f"{msg} at position {self.i} in {self.s!r}")

    def parse(self, until: str | None = None) -> str:
        out = []
        while self.i < len(self.s):
            c = self.s[self.i]
            if until is not None and c == until:
                self.i += 1
                return "".join(out)
            out.append(self.atom())
        if until is not None:
            self.error("missing '}'")
        return "".join(out)

    def group(self) -> str:
        """One argument: ``{...}``, a command or a single character."""
        while self.i < len(self.s) and self.s[self.i] == " ":
            self.i += 1
        if self.i >= len(self.s):
            self.error("missing argument")
        if self.s[self.i] == "{":
            self.i += 1
            return self.parse(until="}")
        return self.atom()

    def command(self) -> tuple[str, str]:
        """Read ``\\name`` (or ``\\`` + one non-letter); returns (name, the space that followed)."""
        self.i += 1
        m = re.compile(r"[A-Za-z]+").match(self.s, self.i)
        if m:
            name = m.group(0)
            self.i = m.end()
        elif self.i < len(self.s):
            name = self.s[self.i]
            self.i += 1
            return name, ""
        else:
            self.error("lone backslash")
        space = ""
        if self.i < len(self.s) and self.s[self.i] == " ":      # the blank that ends a command name
            space = " "
            self.i += 1
        return name, space

    def _word_follows(self) -> bool:
        """After a function name: is the next thing a word or symbol (blank) rather than a bracket?"""
        rest = self.s[self.i:]
        if re.match(r"\\(left|right|big|Big)", rest):
            return False
        return bool(rest) and (rest[0].isalnum() or rest[0] == "\\")

    def atom(self) -> str:
        c = self.s[self.i]
        if c == "{":
            self.i += 1
            return self.parse(until="}")
        if c == "}":
            self.error("unbalanced '}'")
        if c in "^_":
            self.i += 1
            arg = self.group()
            blank = " " if arg.endswith(" ") else ""     # "W^\\top \\operatorname{diag}": keep the gap
            return _script(arg, _SUP if c == "^" else _SUB, c) + blank
        if c == "~":
            self.i += 1
            return " "
        if c == "$" or c == "&":
            self.error(f"'{c}' inside a formula")
        if c != "\\":
            self.i += 1
            return c
        name, space = self.command()
        if name in _SPACES:
            return _SPACES[name]
        if name in _WORDS:
            return " " + name + (" " if space or self._word_follows() else "")
        if name in _BINARY:
            return _SYMBOLS[name] + space
        if name in _CLOSING:
            return _CLOSE + _SYMBOLS[name] + space
        if name in _PREFIX:
            return _SYMBOLS[name]
        if name in _SYMBOLS:
            return _SYMBOLS[name] + space
        if name == "operatorname":                     # like \\log: a word with room around it
            word = self.group()
            return " " + word + (" " if self._word_follows() else "")
        if name in _TEXT:
            return self.group()
        if name in _ACCENTS:
            arg = self.group()
            return arg + _ACCENTS[name] if len(arg) == 1 else f"{arg}{_ACCENTS[name]}"
        if name == "mathbb":
            arg = self.group()
            return "".join(_BLACKBOARD.get(ch, ch) for ch in arg)
        if name == "mathcal":
            arg = self.group()
            return "".join(_CALLIGRAPHIC.get(ch, ch) for ch in arg)
        if name == "frac":
            num, den = self.group(), self.group()
            return f"{_wrap(num)}/{_wrap(den)}"
        if name == "sqrt":
            return "√" + _wrap(self.group())
        if name in ("left", "right", "big", "Big", "bigl", "bigr", "Bigl", "Bigr"):
            return ""
        self.error(f"unknown command \\{name}")


def _wrap(s: str) -> str:
    s = s.strip()
    if len(s) > 1 and re.search(r"[\s+\-−=·×/]", s) and not (s[0] == "(" and s[-1] == ")"):
        return f"({s})"
    return s


def _script(arg: str, table: dict, mark: str) -> str:
    arg = arg.strip()
    if arg and all(ch in table for ch in arg):
        return "".join(table[ch] for ch in arg)
    if mark == "^" and arg in ("ᵀ", "T"):
        return "ᵀ"
    if mark == "^" and len(arg) > 1 and arg.endswith("ᵀ"):       # h^{(t-1)\top}: script, then ᵀ
        return _script(arg[:-1], table, mark) + "ᵀ"
    if len(arg) == 1 or re.fullmatch(r"\w+", arg) or (arg[0] == "(" and arg[-1] == ")"):
        return mark + arg
    return f"{mark}({arg})"


def to_unicode(tex: str) -> str:
    """One formula (without the dollar signs) as Unicode text."""
    text = _Parser(tex).parse()
    text = re.sub(" *" + _CLOSE, "", text)              # "\\lVert g \\rVert" -> "‖g‖"
    text = re.sub(r"([(\[{]) +", r"\1", text)            # "( tanh" -> "(tanh"
    return re.sub(r" {2,}", " ", text).strip()


_SEGMENT = re.compile(r"\$([^$]+)\$")


def math_segments(text: str) -> list[str]:
    """The formulas ``$...$`` of ``text``; raises :class:`TexError` on an unpaired dollar sign."""
    if text.count("$") % 2:
        raise TexError(f"unpaired '$' in {text!r}")
    return _SEGMENT.findall(text)


def plain(text: str) -> str:
    """``text`` with every ``$...$`` replaced by its Unicode form (for a terminal)."""
    math_segments(text)
    return _SEGMENT.sub(lambda m: to_unicode(m.group(1)), text)

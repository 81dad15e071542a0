"""Indexed texts: the interpretable representation of a document.

:class:`IndexedString` splits a text into words and separators (lime's
``IndexedString``), :class:`IndexedCharacters` into characters.  Both keep
lime's API and attributes and add :meth:`~IndexedString.perturbed_texts`,
which turns a whole boolean matrix of word masks into texts at once.

How perturbed texts are built
-----------------------------
The text is cut into *slots*: each word (or word position) together with the
separators in front of it, plus a fixed suffix.  A slot has two variants,
present (``separators + word``) and absent (``separators + replacement``),
where the replacement is ``''`` (removal) or the mask string.  Consecutive
slots are grouped into blocks of ``b`` slots (``b = 8`` for ordinary
documents) and the ``2**b`` variants of every block are precomputed, so a
perturbed text is a row of block codes: the codes of a whole batch come from
one ``np.packbits`` of its mask matrix, the strings from one ``take`` on the
table, and each text from a single ``''.join`` over ``n_words / b`` pieces.
There is no Python-level work per word and per sample.
"""

from __future__ import annotations

import itertools
import json
import re
import warnings

import numpy as np

from .._validation import bad_type, bad_value, describe, strict_keywords
from ..core.explanation import DomainMapper

__all__ = ["IndexedString", "IndexedCharacters", "TextDomainMapper", "PerturbedTextBuilder", "segment"]


# ---------------------------------------------------------------------------- segmentation
def segment(text, split_expression=r"\W+"):
    """Cut ``text`` into pieces that concatenate back to it.

    Parameters
    ----------
    text : str
    split_expression : str, compiled regex, callable or tokenizer object
        A regular expression matching the separators (lime's meaning, used
        with :func:`re.split`); a callable returning the list of tokens; or an
        object with a ``tokenize`` method (an nltk tokenizer such as
        ``TreebankWordTokenizer`` or ``TweetTokenizer``; its
        ``span_tokenize`` is used when it has a working one).

    Returns
    -------
    pieces : list of str
        Words and separators, in order; ``''.join(pieces) == text``.
    is_word : list of bool
        Whether each piece is a word (a token) rather than a separator.
    """
    if isinstance(split_expression, (str, re.Pattern)):
        return _segment_regex(text, split_expression)
    tokenize = getattr(split_expression, "tokenize", None)
    if callable(tokenize):
        span_tokenize = getattr(split_expression, "span_tokenize", None)
        if callable(span_tokenize):
            try:
                spans = [(int(a), int(b)) for a, b in span_tokenize(text)]
            except (NotImplementedError, ValueError, LookupError, TypeError):
                spans = None
            if spans is not None:
                return _segment_spans(text, spans)
        return _segment_tokens(text, _check_tokens(tokenize(text)))
    if callable(split_expression):
        return _segment_tokens(text, _check_tokens(split_expression(text)))
    raise bad_type(
        "split_expression",
        "a regular expression, a callable returning tokens or an object with a "
        ".tokenize method (e.g. an nltk tokenizer)",
        split_expression,
    )


def _segment_regex(text, split_expression):
    """lime's regex segmentation: ``re.split`` on ``(expr)|$``, a piece is a separator if the regex matches it."""
    if isinstance(split_expression, re.Pattern):
        pattern, flags = split_expression.pattern, split_expression.flags
    else:
        pattern, flags = split_expression, 0
    try:
        splitter = re.compile(rf"({pattern})|$", flags)
    except (re.error, TypeError) as exc:
        raise bad_value("split_expression", "a valid regular expression", repr(split_expression), str(exc)) from exc
    pieces = [s for s in splitter.split(text) if s]
    return pieces, [splitter.match(s) is None for s in pieces]


def _check_tokens(tokens):
    try:
        tokens = list(tokens)
    except TypeError as exc:
        raise bad_type("split_expression", "a tokenizer returning a list of strings", tokens) from exc
    if not all(isinstance(t, str) for t in tokens):
        bad = next(t for t in tokens if not isinstance(t, str))
        raise bad_type("split_expression", "a tokenizer returning strings", bad)
    return tokens


def _segment_spans(text, spans):
    pieces, is_word, pointer = [], [], 0
    for start, end in spans:
        if start < pointer or end <= start or end > len(text):
            continue  # overlapping, empty or out-of-range span
        if start > pointer:
            pieces.append(text[pointer:start])
            is_word.append(False)
        pieces.append(text[start:end])
        is_word.append(True)
        pointer = end
    if pointer < len(text):
        pieces.append(text[pointer:])
        is_word.append(False)
    return pieces, is_word


def _segment_tokens(text, tokens):
    """Locate the tokens in ``text`` left to right; tokens not found stay part of a separator."""
    spans, pointer, missing = [], 0, []
    for token in tokens:
        if not token:
            continue
        start = text.find(token, pointer)
        if start < 0:
            missing.append(token)
            continue
        spans.append((start, start + len(token)))
        pointer = start + len(token)
    if missing:
        warnings.warn(
            f"split_expression: {len(missing)} token(s) do not occur in the text as written "
            f"(e.g. {missing[0]!r}; the tokenizer rewrote them) and are left unperturbed.",
            UserWarning,
            stacklevel=4,
        )
    return _segment_spans(text, spans)


# ---------------------------------------------------------------------------- text building
def _block_bits(n_slots):
    """Slots per block: 8 (table of ``32 * n_slots`` texts) up to 2048 slots, then 4, then 2."""
    if n_slots <= 2048:
        return 8
    return 4 if n_slots <= 65536 else 2


class PerturbedTextBuilder:
    """Builds perturbed texts from boolean word masks, a batch at a time.

    Parameters
    ----------
    pieces : list of str
        The text cut into words and separators.
    piece_feature : ndarray of int
        Interpretable feature of each piece, -1 for separators.
    replacement : str
        What an absent word becomes: ``''`` (removed) or a mask string.
    n_features : int
    """

    def __init__(self, pieces, piece_feature, replacement, n_features):
        piece_feature = np.asarray(piece_feature, dtype=np.intp)
        word_pieces = np.flatnonzero(piece_feature >= 0)
        present, absent = [], []
        previous = 0
        for index in word_pieces.tolist():
            prefix = "".join(pieces[previous:index])
            present.append(prefix + pieces[index])
            absent.append(prefix + replacement)
            previous = index + 1
        self.suffix = "".join(pieces[previous:])
        self.n_features = int(n_features)
        self.slot_feature = piece_feature[word_pieces]
        n_slots = len(present)
        self.n_slots = n_slots
        self.bits = _block_bits(n_slots)
        self.n_blocks = -(-n_slots // self.bits) if n_slots else 0
        self.pad = self.n_blocks * self.bits - n_slots
        self.table = self._variant_table(present, absent) if n_slots else None
        n_bytes = -(-n_slots // 8)
        self._slot_index = np.zeros(n_bytes * 8, dtype=np.intp)
        self._slot_index[:n_slots] = self.slot_feature
        self._block_offset = np.arange(self.n_blocks, dtype=np.intp) << self.bits

    def _variant_table(self, present, absent):
        """Flat object array: entry ``block * 2**bits + code`` is the block's text when bit j of ``code``
        says whether its slot j is present."""
        fill = [""] * self.pad
        present = np.array(present + fill, dtype=object).reshape(self.n_blocks, self.bits)
        absent = np.array(absent + fill, dtype=object).reshape(self.n_blocks, self.bits)
        return _block_variants(present, absent).ravel()

    def texts(self, keep):
        """Texts for the rows of ``keep``.

        Parameters
        ----------
        keep : ndarray of bool of shape (n_rows, n_features)
            True where the word (feature) is kept.

        Returns
        -------
        list of str
        """
        keep = np.asarray(keep, dtype=bool)
        n_rows = keep.shape[0]
        if self.n_slots == 0:
            return [self.suffix] * n_rows
        # one C-contiguous bool column per slot, padded to whole bytes (padding slots are '' either way)
        slots = np.take(keep, self._slot_index, axis=1)
        codes = _pack_bytes(slots)  # (n_rows, n_bytes): bit j of byte i = slot 8 i + j
        if self.bits < 8:
            per_byte = 8 // self.bits
            shifts = np.arange(per_byte, dtype=np.uint64) * np.uint64(self.bits)
            codes = ((codes[:, :, None] >> shifts) & np.uint64((1 << self.bits) - 1)).reshape(n_rows, -1)
            codes = codes[:, : self.n_blocks]
        codes = codes.astype(np.intp)
        codes += self._block_offset
        pieces = self.table.take(codes).tolist()
        join = "".join
        suffix = self.suffix
        if suffix:
            return [join(row) + suffix for row in pieces]
        return [join(row) for row in pieces]


def _block_variants(present, absent):
    """``(n_blocks, 2**b)`` texts of blocks of ``b`` slots, from the halves' variants (``b`` a power of 2)."""
    if present.shape[1] == 1:
        return np.concatenate([absent, present], axis=1)
    half = present.shape[1] // 2
    low = _block_variants(present[:, :half], absent[:, :half])
    high = _block_variants(present[:, half:], absent[:, half:])
    # code = high_code * 2**half + low_code; the low slots come first in the text
    return (low[:, None, :] + high[:, :, None]).reshape(present.shape[0], -1)


_GATHER_BITS = np.uint64(0x0102040810204080)


def _pack_bytes(bits):
    """``np.packbits(bits, axis=1, bitorder='little')`` for a C-contiguous bool matrix with a width that
    is a multiple of 8, by one multiplication per 8 columns."""
    bits = np.ascontiguousarray(bits)
    if bits.shape[1] == 0:
        return np.zeros((bits.shape[0], 0), dtype=np.uint64)
    # 8 bytes of 0/1 read as a little-endian uint64; the product gathers byte j into bit 56 + j
    words = bits.view(np.uint8).view("<u8")
    return (words * _GATHER_BITS) >> np.uint64(56)


# ---------------------------------------------------------------------------- indexed texts
class _IndexedBase:
    """What :class:`IndexedString` and :class:`IndexedCharacters` share."""

    def _index(self, pieces, is_word, bow):
        self.as_list = pieces
        self.as_np = np.array(pieces)
        lengths = np.fromiter((len(p) for p in pieces), dtype=np.intp, count=len(pieces))
        self.string_start = (
            np.concatenate([[0], np.cumsum(lengths[:-1])]).astype(np.intp) if pieces else np.zeros(0, dtype=np.intp)
        )
        self.piece_length = lengths
        self.bow = bool(bow)
        piece_feature = np.full(len(pieces), -1, dtype=np.intp)
        self.inverse_vocab = []
        if bow:
            vocab = {}
            self.positions = []
            for i, (piece, word) in enumerate(zip(pieces, is_word)):
                if not word:
                    continue
                feature = vocab.get(piece)
                if feature is None:
                    feature = vocab[piece] = len(self.inverse_vocab)
                    self.inverse_vocab.append(piece)
                    self.positions.append([])
                self.positions[feature].append(i)
                piece_feature[i] = feature
        else:
            word_pieces = np.flatnonzero(np.asarray(is_word, dtype=bool))
            self.inverse_vocab = [pieces[i] for i in word_pieces.tolist()]
            self.positions = word_pieces.astype(np.intp)
            piece_feature[word_pieces] = np.arange(word_pieces.size)
        self.piece_feature = piece_feature

    def raw_string(self):
        """The original text."""
        return self.raw

    def num_words(self):
        """Number of interpretable features (distinct words, or word positions when ``bow=False``)."""
        return len(self.inverse_vocab)

    def word(self, id_):
        """The word of feature ``id_``."""
        return self.inverse_vocab[id_]

    def string_position(self, id_):
        """Character offsets of feature ``id_``'s occurrences, as an int array."""
        if self.bow:
            return self.string_start[self.positions[id_]]
        return self.string_start[[self.positions[id_]]]

    def spans(self, id_):
        """``[(start, end), ...]`` character spans of feature ``id_``'s occurrences."""
        pieces = self.positions[id_] if self.bow else [self.positions[id_]]
        return [(int(self.string_start[p]), int(self.string_start[p] + self.piece_length[p])) for p in pieces]

    @property
    def replacement(self):
        """What a removed word becomes in the perturbed texts."""
        return self._replacement

    def text_builder(self):
        """A :class:`PerturbedTextBuilder` for this text (precomputes its block table)."""
        return PerturbedTextBuilder(self.as_list, self.piece_feature, self._replacement, self.num_words())

    def perturbed_texts(self, keep):
        """Texts with the words where ``keep`` is False removed (or masked), one per row of ``keep``.

        Parameters
        ----------
        keep : ndarray of bool of shape (n_rows, num_words())

        Returns
        -------
        list of str
        """
        keep = np.atleast_2d(np.asarray(keep, dtype=bool))
        if keep.shape[1] != self.num_words():
            raise bad_value("keep", f"{self.num_words()} columns (one per word)", f"shape {keep.shape}")
        return self.text_builder().texts(keep)

    def inverse_removing(self, words_to_remove):
        """The text with the words ``words_to_remove`` (feature ids) removed, or masked.

        ``bow=True`` removes every occurrence (or replaces it with ``mask_string``
        when one was given); ``bow=False`` replaces the positions with
        ``mask_string``.

        Parameters
        ----------
        words_to_remove : list of int

        Returns
        -------
        str
        """
        gone = np.zeros(self.num_words(), dtype=bool)
        gone[np.asarray(words_to_remove, dtype=np.intp)] = True
        piece_gone = np.zeros(len(self.as_list), dtype=bool)
        is_word = self.piece_feature >= 0
        piece_gone[is_word] = gone[self.piece_feature[is_word]]
        replacement = self._replacement
        return "".join([replacement if g else p for p, g in zip(self.as_list, piece_gone.tolist())])


class IndexedString(_IndexedBase):
    """A text split into words and separators (lime's ``IndexedString``).

    Parameters
    ----------
    raw_string : str
    split_expression : str, compiled regex, callable or tokenizer object, default=r'\\W+'
        Regex matching the separators (used with :func:`re.split`), a callable
        returning the tokens, or an object with ``tokenize`` (nltk tokenizers;
        nothing needs nltk's downloadable data).  Tokens are located in the
        text, so they keep their original characters and offsets.
    bow : bool, default=True
        True: a feature is a distinct word, all its occurrences removed
        together.  False: a feature is a word position, masked on its own.
    mask_string : str or None
        Replacement for absent words.  None: removal with ``bow=True`` and
        ``'UNKWORDZ'`` with ``bow=False`` (lime).  Given with ``bow=True``, every
        occurrence is replaced by it (lime ignores it there).

    Attributes
    ----------
    raw : str
    as_list : list of str
        Words and separators; ``''.join(as_list) == raw``.
    as_np : ndarray of str
    string_start : ndarray of int
        Character offset of every piece.
    inverse_vocab : list of str
        The word of every feature.
    positions : list of list of int or ndarray of int
        Piece indices of each feature's occurrences (``bow=True``) or the piece
        index of each position (``bow=False``).
    piece_feature : ndarray of int
        Feature of every piece, -1 for separators.
    mask_string : str
    bow : bool
    """

    def __init__(self, raw_string, split_expression=r"\W+", bow=True, mask_string=None):
        if not isinstance(raw_string, str):
            raise bad_type("raw_string", "a str", raw_string)
        self.raw = raw_string
        self.mask_string = "UNKWORDZ" if mask_string is None else str(mask_string)
        self._replacement = "" if (bow and mask_string is None) else self.mask_string
        pieces, is_word = segment(raw_string, split_expression)
        self._index(pieces, is_word, bow)


class IndexedCharacters(_IndexedBase):
    """A text split into characters (lime's ``IndexedCharacters``).

    Parameters
    ----------
    raw_string : str
    bow : bool, default=True
        True: a feature is a distinct character, all its occurrences removed
        together.  False: a feature is a character position.
    mask_string : str or None
        Replacement for absent characters.  None: removal with ``bow=True``
        and ``chr(0)`` with ``bow=False`` (lime).

    Notes
    -----
    The attributes are those of :class:`IndexedString`, with one piece per
    character.
    """

    def __init__(self, raw_string, bow=True, mask_string=None):
        if not isinstance(raw_string, str):
            raise bad_type("raw_string", "a str", raw_string)
        self.raw = raw_string
        self.mask_string = chr(0) if mask_string is None else str(mask_string)
        self._replacement = "" if (bow and mask_string is None) else self.mask_string
        pieces = list(raw_string)
        self._index(pieces, [True] * len(pieces), bow)


# ---------------------------------------------------------------------------- domain mapper
class TextDomainMapper(DomainMapper):
    """Maps feature ids to words or word positions (lime's ``TextDomainMapper``).

    Parameters
    ----------
    indexed_string : IndexedString or IndexedCharacters
    """

    def __init__(self, indexed_string):
        self.indexed_string = indexed_string

    @strict_keywords
    def map_exp_ids(self, exp, positions=False):
        """``[(word, weight), ...]``, or ``[('word_3-17', weight), ...]`` with ``positions=True``.

        Parameters
        ----------
        exp : list of (int, float)
        positions : bool, default=False
            Append the character offsets of the word's occurrences (lime's form).

        Returns
        -------
        list of (str, float)
        """
        indexed = self.indexed_string
        if positions:
            return [
                ("{}_{}".format(indexed.word(x[0]), "-".join(map(str, indexed.string_position(x[0])))), x[1])
                for x in exp
            ]
        return [(indexed.word(x[0]), x[1]) for x in exp]

    def feature_records(self, feature_ids):
        """Per word: ``id``, ``name`` (the word), ``positions`` (start offsets) and ``spans``
        (``[start, end]`` character ranges, for highlighting)."""
        indexed = self.indexed_string
        records = []
        for feature in feature_ids:
            spans = indexed.spans(int(feature))
            records.append(
                {
                    "id": int(feature),
                    "name": str(indexed.word(int(feature))),
                    "positions": [start for start, _ in spans],
                    "spans": [[start, end] for start, end in spans],
                }
            )
        return records

    def to_dict(self):
        """The text and how it was split."""
        indexed = self.indexed_string
        return {
            "modality": "text",
            "text": indexed.raw_string(),
            "bow": bool(indexed.bow),
            "char_level": isinstance(indexed, IndexedCharacters),
            "num_words": int(indexed.num_words()),
        }

    def visualize_instance_html(self, exp, label, div_name, exp_object_name, text=True, opacity=True):
        """lime's javascript snippet that shows the text with the explained words highlighted.

        Every string is written as a JSON literal safe inside ``<script>``
        (``<``, ``>`` and ``&`` as ``\\u003c`` escapes), so no token can close
        the script or open markup; ``div_name`` and ``exp_object_name`` must be
        JavaScript names (``exp``, ``top.div``), as lime's callers pass them.
        """
        if not text:
            return ""
        for argument, name in (("div_name", div_name), ("exp_object_name", exp_object_name)):
            if not isinstance(name, str) or not _JS_NAME.fullmatch(name):
                raise bad_value(argument, "a JavaScript variable name such as 'exp' or 'top.div'", describe(name))
        raw = self.indexed_string.raw_string().encode("utf-8", "xmlcharrefreplace").decode("utf-8")
        raw = re.sub(r"[<>&]", "|", raw)
        exp = [(self.indexed_string.word(x[0]), self.indexed_string.string_position(x[0]), x[1]) for x in exp]
        occurrences = list(itertools.chain.from_iterable([itertools.product([x[0]], x[1], [x[2]]) for x in exp]))
        occurrences = [(x[0], int(x[1]), x[2]) for x in occurrences]
        arguments = ", ".join(
            [_script_json(occurrences), str(int(label)), _script_json(raw), div_name, _script_json(bool(opacity))]
        )
        return f"""
            {exp_object_name}.show_raw_text({arguments});
            """


_JS_NAME = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*", re.ASCII)


def _script_json(value):
    """``json.dumps(value)`` that cannot end a ``<script>`` element or start markup inside one."""
    text = json.dumps(value)  # ensure_ascii: U+2028/U+2029 come out escaped too
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")

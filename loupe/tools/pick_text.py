from loupe.programs.errors import Diagnostic
from loupe.programs.values import ValueType
from loupe.tools.base import Param
from loupe.tools.model_tool import ModelTool


class PickText(ModelTool):
    name = "PICK_TEXT"
    description = ("Picks the line or words of OCR's text that answer a question (e.g. the street a sign "
                   "names, not its small print), using the planner's language model and where the question "
                   "says to look ('on the right', 'at the bottom').")
    inputs = {"text": Param(ValueType.OBJECTS, "lines read by OCR"),
              "question": Param(ValueType.TEXT, "the question the text should answer")}
    output = ValueType.TEXT
    examples = ("ANSWER0=PICK_TEXT(text=TEXT0,question='Which street does the sign name?')",)

    @classmethod
    def check(cls, args, line):
        question = args.get("question")
        if isinstance(question, str) and not question.strip():
            return [Diagnostic("PICK_TEXT needs a question; write the user's question about the text", line)]
        return []

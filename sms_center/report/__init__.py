from . import report_data_request

import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Query,
} from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from './api-responses.decorator';
import { RequireScope } from './api-scopes.decorator';
import { ApiMessagingService } from './api-messaging.service';
import {
  CallListDto,
  CallWithLineDto,
  HoldResultDto,
  OriginatedCallDto,
  TransferResultDto,
} from './dto/call.dto';
import {
  CallIdParams,
  ConsultCallDto,
  DtmfDto,
  ListCallsQuery,
  OriginateCallDto,
  TransferCallDto,
} from './dto/calls.dto';
import { ApiController } from './api-controller.decorator';

const ID_PARAM = ApiParam({
  name: 'id',
  description: 'The call id (as GET /api/v1/calls shows it).',
});

@ApiTags('calls')
@ApiController()
@Controller('api/v1/calls')
export class CallsController {
  constructor(private readonly messaging: ApiMessagingService) {}

  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  @RequireScope('calls')
  @ApiOperation({
    summary: 'Originate a call for a line',
    description:
      "The line's phone rings first; when answered, the number is dialled. Answers once the PBX accepted the call (202), with the call id the line's CTI panel will see.",
  })
  @ApiResponse({ status: 202, type: OriginatedCallDto })
  @ApiErrors(400, 409, 502, 503, 501)
  async originate(@Body() dto: OriginateCallDto): Promise<OriginatedCallDto> {
    const { call, context } = await this.messaging.originate(dto);
    return { id: call.id, line: dto.line, context, call };
  }

  @Get()
  @RequireScope('read', 'calls')
  @ApiOperation({ summary: 'Active calls (of every line, or of one)' })
  @ApiResponse({ status: 200, type: CallListDto })
  @ApiErrors(400, 503)
  list(@Query() query: ListCallsQuery): CallListDto {
    return { calls: this.messaging.listCalls(query.line) };
  }

  @Get(':id')
  @RequireScope('read', 'calls')
  @ID_PARAM
  @ApiOperation({
    summary: 'One call, with its line and its saving in the CRM',
    description:
      "An active call, or one that ended recently on this node. `crm` shows the call's record in the CRM (databaseUId) and how its saving goes: pending, saved, failed (with the last error), off (this line's calls are not saved, and why), elsewhere (another node saves it).",
  })
  @ApiResponse({ status: 200, type: CallWithLineDto })
  @ApiErrors(400, 404, 503)
  get(@Param() p: CallIdParams): CallWithLineDto {
    return this.messaging.describeCall(p.id);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequireScope('calls')
  @ID_PARAM
  @ApiOperation({ summary: 'Hang up' })
  @ApiResponse({ status: 204, description: 'The PBX hung the call up.' })
  @ApiErrors(400, 404, 409, 502, 503, 501)
  async hangUp(@Param() p: CallIdParams): Promise<void> {
    await this.messaging.hangUp(p.id);
  }

  @Post(':id/hold')
  @HttpCode(HttpStatus.OK)
  @RequireScope('calls')
  @ID_PARAM
  @ApiOperation({
    summary: 'Hold (park the remote party)',
    description: 'Answers the parking space the remote party waits in.',
  })
  @ApiResponse({ status: 200, type: HoldResultDto })
  @ApiErrors(400, 404, 409, 502, 503, 501)
  hold(@Param() p: CallIdParams): Promise<HoldResultDto> {
    return this.messaging.hold(p.id);
  }

  @Post(':id/unhold')
  @HttpCode(HttpStatus.OK)
  @RequireScope('calls')
  @ID_PARAM
  @ApiOperation({ summary: 'Take a held call back to its line' })
  @ApiResponse({ status: 200, type: HoldResultDto })
  @ApiErrors(400, 404, 409, 502, 503, 501)
  unhold(@Param() p: CallIdParams): Promise<HoldResultDto> {
    return this.messaging.unhold(p.id);
  }

  @Post(':id/transfer')
  @HttpCode(HttpStatus.ACCEPTED)
  @RequireScope('calls')
  @ID_PARAM
  @ApiOperation({
    summary: 'Transfer: blind, or start an attended transfer',
    description:
      'blind: the call goes to the target. attended: a consultation call to the target starts (answered in consultCall); then POST .../transfer/complete or .../transfer/cancel.',
  })
  @ApiResponse({ status: 202, type: TransferResultDto })
  @ApiErrors(400, 404, 409, 502, 503, 501)
  async transfer(
    @Param() p: CallIdParams,
    @Body() dto: TransferCallDto,
  ): Promise<TransferResultDto> {
    const r = await this.messaging.transfer(p.id, dto);
    return {
      mode: r.mode,
      callId: p.id,
      target: dto.target,
      ...(r.consultCall ? { consultCall: r.consultCall } : {}),
    };
  }

  @Post(':id/transfer/complete')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequireScope('calls')
  @ID_PARAM
  @ApiOperation({ summary: 'Complete an attended transfer (join the call and the consultation)' })
  @ApiResponse({ status: 204, description: 'Transferred.' })
  @ApiErrors(400, 404, 409, 502, 503, 501)
  async completeTransfer(@Param() p: CallIdParams, @Body() dto: ConsultCallDto): Promise<void> {
    await this.messaging.completeTransfer(p.id, dto.consultCallId);
  }

  @Post(':id/transfer/cancel')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequireScope('calls')
  @ID_PARAM
  @ApiOperation({
    summary: 'Cancel an attended transfer (drop the consultation, take the call back)',
  })
  @ApiResponse({ status: 204, description: 'Cancelled.' })
  @ApiErrors(400, 404, 409, 502, 503, 501)
  async cancelTransfer(@Param() p: CallIdParams, @Body() dto: ConsultCallDto): Promise<void> {
    await this.messaging.cancelTransfer(p.id, dto.consultCallId);
  }

  @Post(':id/dtmf')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequireScope('calls')
  @ID_PARAM
  @ApiOperation({ summary: 'Send DTMF digits on the call' })
  @ApiResponse({ status: 204, description: 'Sent.' })
  @ApiErrors(400, 404, 409, 502, 503, 501)
  async dtmf(@Param() p: CallIdParams, @Body() dto: DtmfDto): Promise<void> {
    await this.messaging.dtmf(p.id, dto.digits);
  }
}
